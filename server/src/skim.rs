//! Skimming a flood of lines: while the parser is far behind a session printing
//! line after line, rows leaving the screen are only counted, not formatted
//! into history, and copies of the screen are kept at points along the way.
//! Afterwards, parsing again from the copy just before the rows the history
//! keeps formats exactly those rows.
//!
//! Why: formatting every departing row was 40% of the parse of coloured output,
//! and a flood pushes out far more rows than the history keeps (a 16 MiB `cat`
//! of 150-byte lines: 110,000 rows, of which the last 10,000 stay). vt100 hands
//! a departing row out only to be formatted there and then, so the rows the
//! history ends up keeping are found by parsing their stretch of output again.

use std::collections::VecDeque;

/// Skimming starts only with at least this much output waiting behind the
/// batch: a flood, not a burst the parser is about to catch up with.
const SKIM_FROM_BACKLOG: u64 = 1024 * 1024;
/// ...and at least as much as the stretch it would parse again at the end (the
/// history's rows at the rate rows left in the last batch), so the rows it
/// skips outnumber the rows it parses twice.
const SKIM_FROM_WINDOWS: u64 = 1;
/// Batches smaller than this say too little about how fast rows leave.
const JUDGED_BATCH: u64 = 32 * 1024;
/// The most output kept to parse again; past it, skimming stops (parsing it
/// again then, under the screen's lock). Bounds both the memory and that pause.
pub const SKIM_MAX_BYTES: usize = 8 * 1024 * 1024;
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
    pub segments: Vec<Vec<u8>>,
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
        keep > 0
            && window <= SKIM_MAX_BYTES as u64 / 2
            && backlog >= SKIM_FROM_BACKLOG.max(window * SKIM_FROM_WINDOWS)
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
            }]),
            departed_at_start: departed,
            keep: keep as u64,
            bytes: 0,
        }
    }

    /// Output just parsed (with its rows counted, not formatted).
    pub fn push(&mut self, bytes: &[u8]) {
        if let Some(last) = self.marks.back_mut() {
            last.bytes.extend_from_slice(bytes);
            self.bytes += bytes.len();
        }
    }

    /// Output kept to parse again.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// After output, with `departed` rows gone by now: whether a new copy of the
    /// screen is due (`screen` makes one; only where vte is between sequences).
    pub fn mark_if_due(
        &mut self,
        departed: u64,
        at_boundary: bool,
        screen: impl FnOnce() -> vt100::Screen,
    ) {
        let newest = self.marks.back().map_or(departed, |m| m.departed);
        let spacing = (self.keep / MARKS_PER_HISTORY).max(1);
        if at_boundary && departed - newest >= spacing {
            self.marks.push_back(Mark {
                screen: screen(),
                departed,
                bytes: Vec::new(),
            });
        }
        self.forget_evicted(departed);
    }

    /// Drops the oldest copy while the rows before the next one are all gone from
    /// the history: followed by `keep` rows, or none left between the two.
    fn forget_evicted(&mut self, departed: u64) {
        while self.marks.len() > 1 {
            let (first, second) = (&self.marks[0], &self.marks[1]);
            let second_covered = departed - second.departed >= self.keep;
            let none_between = first.departed == second.departed;
            if !(second_covered || none_between) {
                break;
            }
            if let Some(gone) = self.marks.pop_front() {
                self.bytes -= gone.bytes.len();
            }
        }
    }

    /// What parsing again needs, with `departed` rows gone by now.
    pub fn into_replay(mut self, departed: u64) -> Option<Replay> {
        let first = self.marks.pop_front()?;
        let mut segments = Vec::with_capacity(self.marks.len() + 1);
        segments.push(first.bytes);
        segments.extend(self.marks.into_iter().map(|m| m.bytes));
        Some(Replay {
            screen: first.screen,
            skipped: first.departed - self.departed_at_start,
            formatted: departed - first.departed,
            segments,
        })
    }
}

#[cfg(test)]
mod tests;
