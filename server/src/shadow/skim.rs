//! Skimming a flood of lines: while the parser is far behind a session printing
//! line after line, rows leaving the screen are only counted, not formatted
//! into history, and copies of the screen are kept at points along the way.
//! Afterwards, parsing again from the copy just before the rows the history
//! keeps formats exactly those rows.
//!
//! Why: formatting every departing row was 40% of the parse of coloured output,
//! and a flood pushes out far more rows than the history keeps (a 16 MiB `cat`
//! of 252-byte coloured lines: 66,500 rows, of which the last 10,000 stay).
//! vt100 hands a departing row out only to be formatted there and then, so the
//! rows the history ends up keeping are found by parsing their stretch of
//! output again.
//!
//! Here: the copies and the output kept (`Skim`), when skimming pays
//! (`RowRate`), what parsing again needs (`Replay`), and the shadow screen's
//! side of it (`impl Shadow`: its hooks in `process`, the parser's pacing, and
//! formatting what was skimmed a step at a time).

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{Screen, Shadow, ShadowState};
use crate::history::History;

/// Skimming starts only with at least this much output waiting behind the
/// batch: a flood, not a burst the parser is about to catch up with. And at
/// least the stretch it would parse again at the end (a history's worth of
/// rows at the rate rows left in the last batch) must be waiting: a flood that
/// goes on for another such stretch then skips as many rows as it formats
/// twice (the benchmark's parser was nearly three behind); one that stops
/// there costs the stretch once more.
const SKIM_FROM_BACKLOG: u64 = 1024 * 1024;
/// Batches smaller than this say too little about how fast rows leave.
const JUDGED_BATCH: u64 = 32 * 1024;
/// The most output kept to parse again; past it, skimming stops (parsing it
/// again then, under the screen's lock). Bounds both the memory and that pause
/// (about 120 ms of coloured lines, reached only where no copy of the screen
/// can be taken). Skimming starts only where a history's worth of rows takes
/// at most half of it: 10,000 rows of 400 bytes. (At 4 MiB the benchmark's
/// 252-byte coloured lines, 2.5 MB a history, were never skimmed.)
pub const SKIM_MAX_BYTES: usize = 8 * 1024 * 1024;
/// A flood of short lines (`seq`) whose history takes less than this to parse
/// again is skimmed only while the parser is behind, as before fast-forwarding:
/// settling costs little there, and skimming on through such a flood slowed
/// the program (`seq` detached 370 → 495 ms in an A/B; not explained).
const CHEAP_TO_SETTLE: usize = 512 * 1024;
/// Less than this waiting behind the parser's batch: it has caught up.
const SKIM_UNTIL_BACKLOG: u64 = 64 * 1024;
/// Copies of the screen are this many rows apart, as a fraction of the
/// history's length: 4 keeps about five copies and parses again at most a
/// quarter more than the history holds.
const MARKS_PER_HISTORY: u64 = 4;

/// The output since a copy of the screen, and that copy.
struct Mark {
    /// The screen where vte was between sequences and characters, so a fresh
    /// parser given it reads what follows as the live one did.
    screen: vt100::Screen,
    /// Rows that had left the main screen before it (`ShadowState::departed`).
    departed: u64,
    /// The output parsed after it, up to the next mark.
    bytes: Vec<u8>,
    /// Where each `process` call ended in `bytes`, with the rows gone after it
    /// (none yet: it failed). Parsing again cuts the output the same way: vte
    /// reads a character split between two calls differently (it can drop the
    /// byte after a split two-byte character, alacritty/vte#159).
    calls: Vec<Call>,
}

#[derive(Clone, Copy)]
struct Call {
    end: usize,
    departed: Option<u64>,
}

/// Rows skipped during a flood and what it takes to format the ones the history
/// keeps.
pub struct Skim {
    /// Oldest first. Every row that left before the first one is followed by at
    /// least `keep` rows: the history will not hold it.
    marks: VecDeque<Mark>,
    /// Rows that had left the main screen when skimming began.
    departed_at_start: u64,
    /// The history's length in rows.
    keep: u64,
    bytes: usize,
}

/// What parsing again needs: the screen to start from, the rows skipped before
/// it, and the output after it.
pub struct Replay {
    pub screen: vt100::Screen,
    /// Rows that left before `screen`, none of which the history keeps.
    pub skipped: u64,
    /// Rows that left after it, which parsing again formats.
    pub formatted: u64,
    /// The output after `screen` a call at a time, as the parser was given
    /// it, up to the last call in which a row left: each mark's bytes with
    /// where its calls end.
    calls: Vec<(Vec<u8>, Vec<usize>)>,
    /// The next call to repeat: its mark and its place among the mark's calls.
    next: (usize, usize),
}

impl Replay {
    /// The `process` calls to repeat, in order.
    #[cfg(test)]
    pub fn calls(&self) -> impl Iterator<Item = &[u8]> {
        self.calls.iter().flat_map(|(bytes, ends)| {
            let starts = std::iter::once(0).chain(ends.iter().copied());
            starts
                .zip(ends.iter().copied())
                .map(|(from, to)| &bytes[from..to])
        })
    }

    /// Hands `process` the next calls, about `budget` bytes of them; true once
    /// there are none left. A mark's bytes go once its calls are done.
    pub fn feed(&mut self, budget: usize, mut process: impl FnMut(&[u8])) -> bool {
        let mut fed = 0;
        loop {
            let (mark, call) = self.next;
            let Some((bytes, ends)) = self.calls.get_mut(mark) else {
                return true;
            };
            let Some(&end) = ends.get(call) else {
                *bytes = Vec::new();
                self.next = (mark + 1, 0);
                continue;
            };
            if fed >= budget {
                return false;
            }
            let from = if call == 0 { 0 } else { ends[call - 1] };
            process(&bytes[from..end]);
            fed += end - from;
            self.next = (mark, call + 1);
        }
    }
}

/// How fast rows left the screen over a stretch of output.
#[derive(Clone, Copy, Debug, Default)]
pub struct RowRate {
    pub bytes: u64,
    pub rows: u64,
}

impl RowRate {
    /// Whether the stretch is long enough to say how fast rows leave.
    pub fn judged(self) -> bool {
        self.bytes >= JUDGED_BATCH
    }

    /// The output it takes for `keep` rows to leave, if the stretch says enough.
    fn bytes_for(self, keep: u64) -> Option<u64> {
        if self.bytes < JUDGED_BATCH || self.rows == 0 {
            return None;
        }
        Some((self.bytes / self.rows).saturating_mul(keep))
    }

    /// Whether skimming pays with `backlog` bytes waiting, for a history of
    /// `keep` rows.
    pub fn worth_skimming(self, backlog: u64, keep: u64) -> bool {
        let Some(window) = self.bytes_for(keep) else {
            return false;
        };
        keep > 0 && window <= SKIM_MAX_BYTES as u64 / 2 && backlog >= SKIM_FROM_BACKLOG.max(window)
    }

    /// Whether skimming should stop: few rows leave any more (a full-screen
    /// repaint), so the stretch kept to parse again would only grow. A stretch
    /// too short to tell does not stop it.
    pub fn too_slow_for(self, keep: u64) -> bool {
        match self.bytes_for(keep) {
            Some(window) => window > SKIM_MAX_BYTES as u64 / 2,
            None => self.bytes >= JUDGED_BATCH,
        }
    }
}

impl Skim {
    /// Starts at `screen`, which must be where vte is between sequences and
    /// characters, with `departed` rows gone so far.
    pub fn start(screen: vt100::Screen, departed: u64, keep: usize) -> Self {
        Self {
            marks: VecDeque::from([Mark {
                screen,
                departed,
                bytes: Vec::new(),
                calls: Vec::new(),
            }]),
            departed_at_start: departed,
            keep: keep as u64,
            bytes: 0,
        }
    }

    /// Output about to be parsed, its rows counted, not formatted. Kept first,
    /// so a call vt100 fails on fails again at the same point when parsed again.
    pub fn push(&mut self, bytes: &[u8]) {
        if let Some(last) = self.marks.back_mut() {
            last.bytes.extend_from_slice(bytes);
            last.calls.push(Call {
                end: last.bytes.len(),
                departed: None,
            });
            self.bytes += bytes.len();
        }
    }

    /// Output kept to parse again.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// After the output pushed last was parsed, with `departed` rows gone by
    /// now: a new copy of the screen if one is due (`screen` makes it; only
    /// where vte is between sequences).
    pub fn parsed(
        &mut self,
        departed: u64,
        at_boundary: bool,
        screen: impl FnOnce() -> vt100::Screen,
    ) {
        if let Some(call) = self.marks.back_mut().and_then(|m| m.calls.last_mut()) {
            call.departed = Some(departed);
        }
        let newest = self.marks.back().map_or(departed, |m| m.departed);
        let spacing = (self.keep / MARKS_PER_HISTORY).max(1);
        if at_boundary && departed - newest >= spacing {
            self.marks.push_back(Mark {
                screen: screen(),
                departed,
                bytes: Vec::new(),
                calls: Vec::new(),
            });
        }
        self.forget_evicted(departed);
    }

    /// Drops the oldest copy while the rows before the next one are all gone from
    /// the history, followed by `keep` rows.
    fn forget_evicted(&mut self, departed: u64) {
        while self.marks.len() > 1 {
            if departed - self.marks[1].departed < self.keep {
                break;
            }
            if let Some(gone) = self.marks.pop_front() {
                self.bytes -= gone.bytes.len();
            }
        }
    }

    /// What parsing again needs, with `departed` rows gone by now.
    pub fn into_replay(self, departed: u64) -> Option<Replay> {
        let from = self.marks.front()?.departed;
        // Calls after the last one in which a row left (or that failed) change
        // nothing the history keeps: a repaint after a flood is not parsed again.
        let mut last = None;
        let mut before = from;
        for (m, mark) in self.marks.iter().enumerate() {
            for (c, call) in mark.calls.iter().enumerate() {
                if call.departed != Some(before) {
                    last = Some((m, c));
                }
                before = call.departed.unwrap_or(before);
            }
        }
        let mut marks = self.marks.into_iter();
        let first = marks.next()?;
        let mut calls = Vec::new();
        if let Some((last_mark, last_call)) = last {
            let stretches = std::iter::once((first.bytes, first.calls))
                .chain(marks.map(|m| (m.bytes, m.calls)))
                .take(last_mark + 1);
            for (m, (mut bytes, mark_calls)) in stretches.enumerate() {
                let mut ends: Vec<usize> = mark_calls.iter().map(|c| c.end).collect();
                if m == last_mark {
                    ends.truncate(last_call + 1);
                    bytes.truncate(ends.last().copied().unwrap_or(0));
                }
                calls.push((bytes, ends));
            }
        }
        Some(Replay {
            screen: first.screen,
            skipped: from - self.departed_at_start,
            formatted: departed - from,
            calls,
            next: (0, 0),
        })
    }
}

/// A skimmed flood's history being formatted: a fresh parser on the copy of the
/// screen before the rows history keeps, given the same calls again, with the
/// history in its callbacks meanwhile.
pub(super) struct Formatting {
    parser: vt100::Parser<ShadowState>,
    replay: Replay,
    /// The output kept to parse again, let go when done.
    freed: usize,
}

/// Skimming as the shadow screen does it: its hooks in `process`, the
/// parser's pacing, and formatting what was skimmed.
impl Shadow {
    /// After skimmed output: now and then a copy of the screen, to format the
    /// rows history keeps from later; past the cap on the output kept (where no
    /// copy could be taken), the history is formatted now.
    pub(super) fn after_skimmed_call(&mut self) {
        let (Some(skim), Screen::Live(parser)) = (self.skim.as_mut(), &self.screen) else {
            return;
        };
        let departed = parser.callbacks().departed;
        let at_boundary = self.stream_end.at_boundary();
        skim.parsed(departed, at_boundary, || parser.screen().clone());
        if skim.bytes() > SKIM_MAX_BYTES {
            self.settle_history();
        }
    }

    /// Before a batch of the parser's, with `backlog` bytes waiting behind it:
    /// starts skimming a flood of lines, or says skimming should stop (true):
    /// then the caller formats the rows skimmed (`settle_step`) before the batch.
    /// Catching up stops it only where the history is cheap to parse again
    /// (`CHEAP_TO_SETTLE`): fast-forwarding (`fast_forward.rs`) keeps up with a
    /// flood, and each stop parses a history's worth again. A flood
    /// that ends is formatted once the session writes less than a flood would
    /// (`shadow_parser::settle_if_quiet`), or when a reader needs the history.
    pub fn pace_history(&mut self, backlog: u64) -> bool {
        let Screen::Live(parser) = &self.screen else {
            return false;
        };
        let state = parser.callbacks();
        let rate = RowRate {
            bytes: self.parsed_bytes - self.rate_from.0,
            rows: state.departed - self.rate_from.1,
        };
        if rate.judged() {
            self.rate_from = (self.parsed_bytes, state.departed);
        }
        let keep = state.history.max_lines();
        match &self.skim {
            None if rate.worth_skimming(backlog, keep as u64) => {
                self.begin_skim();
                false
            }
            Some(skim) => {
                let cheap_to_settle = skim.bytes() < CHEAP_TO_SETTLE;
                (cheap_to_settle && backlog < SKIM_UNTIL_BACKLOG) || rate.too_slow_for(keep as u64)
            }
            None => false,
        }
    }

    /// Starts skimming, if the screen may be copied here: live, and its output
    /// stopped between sequences. Whether it pays is `pace_history`'s call.
    pub(crate) fn begin_skim(&mut self) -> bool {
        let Screen::Live(parser) = &mut self.screen else {
            return false;
        };
        if self.skim.is_some() || !self.stream_end.at_boundary() {
            return false;
        }
        let state = parser.callbacks();
        let skim = Skim::start(
            parser.screen().clone(),
            state.departed,
            state.history.max_lines(),
        );
        self.skim = Some(Box::new(skim));
        parser.callbacks_mut().skimming = true;
        true
    }

    /// Formats the rows history keeps of a skimmed flood, parsing again from the
    /// copy of the screen before them. Returns the bytes let go.
    pub fn settle_history(&mut self) -> usize {
        loop {
            if let Some(freed) = self.settle_step(usize::MAX) {
                return freed;
            }
        }
    }

    /// Formats a stretch of a skimmed flood's history: about `budget` bytes of
    /// output parsed again. The bytes let go once all of it is done, else None.
    /// The parser thread goes a batch at a time and lets go of the screen's
    /// lock between steps (`Session::settle_history_in_steps`): readers of the
    /// screen (a viewer's redraw, `list`, a capture) then wait a step, not the
    /// whole.
    pub fn settle_step(&mut self, budget: usize) -> Option<usize> {
        if self.formatting.is_none() {
            if let Some(freed) = self.start_formatting() {
                return Some(freed);
            }
        }
        let Some(formatting) = self.formatting.as_mut() else {
            return Some(0);
        };
        let Formatting { parser, replay, .. } = &mut **formatting;
        // A call vt100 fails on now failed when it was skimmed too (calls are
        // kept before they are parsed): the history ends there, as it would have.
        match catch_unwind(AssertUnwindSafe(|| {
            replay.feed(budget, |call| parser.process(call))
        })) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(_) => tracing::error!("a skimmed flood's history ends at a batch vt100 failed on"),
        }
        let Some(mut done) = self.formatting.take() else {
            return Some(0);
        };
        tracing::debug!(
            skipped = done.replay.skipped,
            formatted = done.replay.formatted,
            kept = done.freed,
            fast_forwarded_ever = self.fast_forwarded,
            "history of a skimmed flood formatted"
        );
        let history = std::mem::replace(&mut done.parser.callbacks_mut().history, History::new(0));
        self.state_mut().history = history;
        Some(done.freed)
    }

    /// Ends skimming and sets up formatting what it skipped: the rows the
    /// history will not keep are counted as gone, and a parser on the oldest
    /// copy of the screen gets the history. The bytes let go if that leaves
    /// nothing to parse again (nothing was skimmed, or no row left), else None.
    fn start_formatting(&mut self) -> Option<usize> {
        let Some(skim) = self.skim.take() else {
            return Some(0);
        };
        let freed = skim.bytes();
        let state = self.state_mut();
        state.skimming = false;
        let Some(mut replay) = skim.into_replay(state.departed) else {
            return Some(freed);
        };
        // Of the rows parsed again, those followed by a whole history's worth
        // are gone from it too: counted, not formatted (nor allocated only to
        // be freed, leaving holes between the kept).
        let keep = state.history.max_lines() as u64;
        let evicted_ahead = replay.formatted.saturating_sub(keep);
        state.history.skip_evicted(replay.skipped + evicted_ahead);
        if replay.formatted == 0 {
            return Some(freed);
        }
        let history = std::mem::replace(&mut state.history, History::new(0));
        let (rows, cols) = replay.screen.size();
        let mut parser = vt100::Parser::new_with_callbacks(rows, cols, 0, ShadowState::new(0));
        parser.callbacks_mut().history = history;
        parser.callbacks_mut().evicted_ahead = evicted_ahead;
        std::mem::swap(parser.screen_mut(), &mut replay.screen);
        self.formatting = Some(Box::new(Formatting {
            parser,
            replay,
            freed,
        }));
        None
    }

    /// Output kept to format a skimmed flood's history: for tests.
    #[cfg(test)]
    pub(crate) fn skimmed_bytes(&self) -> usize {
        self.skim.as_ref().map_or(0, |skim| skim.bytes())
    }

    /// Whether rows of a flood wait to be formatted into history.
    pub fn is_skimming(&self) -> bool {
        self.skim.is_some() || self.formatting.is_some()
    }
}

#[cfg(test)]
mod tests;
