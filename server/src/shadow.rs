//! The session's memory of its terminal: a vt100 screen (no scrollback inside vt100)
//! plus our own compact history, the title and the modes vt100 does not replay.
//! Used to draw attaching clients, resync lagging ones, answer queries and capture.
//! An idle session's screen can be packed, and is rebuilt when next needed; a
//! flood's departing rows can be skimmed, and the ones history keeps formatted later.

use std::fmt::Write as _;
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use symp_protocol::Size;

use crate::history::History;
use crate::packed_screen::PackedScreen;
use crate::split_char::SplitChar;
use skim::{Formatting, Skim};

mod fast_forward;
mod skim;
#[cfg(test)]
mod test_rng;
use crate::stream_end::StreamEnd;

/// Events and state vt100 reports through callbacks.
pub struct ShadowState {
    /// Read through `Shadow::history`, which first formats any rows skimmed.
    history: History,
    /// Rows that ever left the top of the main screen.
    departed: u64,
    /// During a flood: rows leaving are counted, not formatted (`skim.rs`).
    skimming: bool,
    /// Rows leaving next that are only counted too: when a skimmed flood is
    /// parsed again, the first of its rows are followed by a whole history's
    /// worth, so the history would not keep them (`skim.rs`).
    evicted_ahead: u64,
    pub title: String,
    /// How many times the title changed (to notice a change without comparing text).
    pub title_changes: u64,
    pub bells: u64,
    /// Focus reporting (`CSI ? 1004 h`), not replayed by vt100.
    pub focus_reporting: bool,
    /// Kitty keyboard protocol flag stack (`CSI > flags u` pushes, `CSI < n u` pops).
    pub kitty_flags: Vec<u16>,
    scratch: String,
}

impl vt100::Callbacks for ShadowState {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }

    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        // Programs pad titles with spaces; nobody wants to see those.
        let title = String::from_utf8_lossy(title);
        let title = title.trim_end();
        if title != self.title {
            self.title = title.to_owned();
            self.title_changes += 1;
        }
    }

    fn unhandled_csi(
        &mut self,
        _: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied();
        match (i1, c) {
            (Some(b'?'), 'h' | 'l') if params.iter().any(|p| p == &[1004]) => {
                self.focus_reporting = c == 'h';
            }
            // The stack is bounded, as kitty bounds it.
            (Some(b'>'), 'u') if self.kitty_flags.len() < 64 => {
                self.kitty_flags.push(first.unwrap_or(0));
            }
            (Some(b'<'), 'u') => {
                let n = usize::from(first.unwrap_or(1).max(1));
                let keep = self.kitty_flags.len().saturating_sub(n);
                self.kitty_flags.truncate(keep);
            }
            (Some(b'='), 'u') => {
                let flags = first.unwrap_or(0);
                let mode = params.get(1).and_then(|p| p.first()).copied().unwrap_or(1);
                if self.kitty_flags.is_empty() {
                    self.kitty_flags.push(0);
                }
                if let Some(top) = self.kitty_flags.last_mut() {
                    *top = match mode {
                        2 => *top | flags,
                        3 => *top & !flags,
                        _ => flags,
                    };
                }
            }
            _ => {}
        }
    }

    fn on_scroll(&mut self, contents: vt100::capture::RowContents<'_>, alternate_screen: bool) {
        if alternate_screen {
            return;
        }
        self.departed += 1;
        if self.skimming || self.history.max_lines() == 0 {
            return;
        }
        if self.evicted_ahead > 0 {
            self.evicted_ahead -= 1;
            return;
        }
        self.scratch.clear();
        // Each line starts from default attributes so it stands alone.
        let mut state = vt100::capture::BasicFormattedCaptureState::new();
        if contents
            .write_formatted_basic(&mut self.scratch, &mut state)
            .is_ok()
        {
            self.history.push(&self.scratch);
        }
    }
}

impl ShadowState {
    fn new(scrollback_lines: usize) -> Self {
        Self {
            history: History::new(scrollback_lines),
            departed: 0,
            skimming: false,
            evicted_ahead: 0,
            title: String::new(),
            title_changes: 0,
            bells: 0,
            focus_reporting: false,
            kitty_flags: Vec::new(),
            scratch: String::new(),
        }
    }
}

pub struct Shadow {
    screen: Screen,
    /// Where the output parsed so far stopped: a screen is packed only between
    /// sequences, as a rebuilt one starts its parser there.
    stream_end: StreamEnd,
    /// Counts output batches and resizes: a screen packed from a copy replaces
    /// the live one only if this did not move meanwhile.
    changes: u64,
    /// When packing was last tried.
    last_pack_try: Option<Instant>,
    /// The output seq this screen is current to.
    pub seq: u64,
    /// Rows skimmed during a flood, waiting to be formatted into history.
    skim: Option<Box<Skim>>,
    /// Those rows being formatted, a step at a time.
    formatting: Option<Box<Formatting>>,
    /// A character cut at the end of the output so far, held for the next.
    split_char: SplitChar,
    /// Bytes ever parsed, and (with rows departed) where the rate rows leave at
    /// was last measured from.
    parsed_bytes: u64,
    rate_from: (u64, u64),
    /// Output bytes ever fast-forwarded rather than drawn (`fast_forward.rs`).
    fast_forwarded: u64,
}

/// Packing is tried at most this often: an idle session that repaints the same
/// picture asks at every sample (ten times a second), its output rebuilds the
/// screen each time, and probing takes a millisecond or two.
const PACK_AGAIN: Duration = Duration::from_secs(5);

enum Screen {
    /// Boxed: a parser is 800 bytes, and most of an idle server's sessions are packed.
    Live(Box<vt100::Parser<ShadowState>>),
    /// Idle and packed: history, title and modes wait beside the packed screen.
    Packed {
        screen: PackedScreen,
        state: ShadowState,
        picture: u64,
    },
}

/// A copy of a live screen to pack without holding the shadow's lock, and how
/// to tell whether the screen changed meanwhile.
pub struct PackJob {
    pub screen: vt100::Screen,
    changes: u64,
}

impl PackJob {
    /// What the live screen's cells take: 32 bytes each.
    pub fn cell_bytes(&self) -> usize {
        let (rows, cols) = self.screen.size();
        usize::from(rows.get()) * usize::from(cols.get()) * 32
    }
}

/// A size as vt100 takes it (0 as 1).
pub(crate) fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

impl Shadow {
    pub fn new(size: Size, scrollback_lines: usize) -> Self {
        Self {
            screen: Screen::Live(Box::new(vt100::Parser::new_with_callbacks(
                nonzero(size.rows),
                nonzero(size.cols),
                0,
                ShadowState::new(scrollback_lines),
            ))),
            stream_end: StreamEnd::default(),
            changes: 0,
            last_pack_try: None,
            seq: 0,
            skim: None,
            formatting: None,
            split_char: SplitChar::default(),
            parsed_bytes: 0,
            rate_from: (0, 0),
            fast_forwarded: 0,
        }
    }

    pub fn process(&mut self, bytes: &[u8]) {
        self.changes += 1;
        // History formatted in steps is finished before rows leave again.
        if self.formatting.is_some() {
            self.settle_history();
        }
        let bytes = self.split_char.whole(bytes);
        if let Some(skim) = self.skim.as_mut() {
            skim.push(&bytes);
        }
        self.draw(&bytes);
        self.parsed_bytes += bytes.len() as u64;
        if self.skim.is_some() {
            self.after_skimmed_call();
        }
    }

    /// Hands output to vt100; while skimming, stretches of plain lines that
    /// scroll away unseen are fast-forwarded (`fast_forward.rs`).
    fn draw(&mut self, bytes: &[u8]) {
        self.live();
        let Screen::Live(parser) = &mut self.screen else {
            unreachable!("made live just above");
        };
        if parser.callbacks().skimming {
            let skipped = fast_forward::feed(parser, &mut self.stream_end, bytes);
            self.fast_forwarded += skipped as u64;
        } else {
            parser.process(bytes);
            self.stream_end.push(bytes);
        }
    }

    /// The history, with any rows skimmed formatted first.
    pub fn history(&mut self) -> &History {
        self.settle_history();
        &self.state().history
    }

    /// vt100 failed partway through a batch: where its parser stopped is
    /// unknown, so no packing until the output shows it again.
    pub fn lose_track(&mut self) {
        self.stream_end.lose_track();
        // Parsing the skimmed output again stops at the failed call (it is kept,
        // and fails again): nothing skimmed after it could be formatted. So the
        // rows skimmed before it are formatted now, and skimming stops.
        self.settle_history();
    }

    pub fn resize(&mut self, size: Size) {
        // Rows a resize pushes off the top go to history after the skimmed ones.
        self.settle_history();
        self.changes += 1;
        self.live().set_size(nonzero(size.rows), nonzero(size.cols));
    }

    pub fn size(&self) -> Size {
        let (rows, cols) = match &self.screen {
            Screen::Live(parser) => parser.screen().size(),
            Screen::Packed { screen, .. } => screen.size(),
        };
        Size {
            cols: cols.get(),
            rows: rows.get(),
        }
    }

    /// Runs `read` on the screen. A packed screen is rebuilt for it and stays
    /// packed (a rebuild is a fraction of a millisecond; packing costs more):
    /// only output and resizes bring it back to life.
    pub fn with_screen<T>(&self, read: impl FnOnce(&vt100::Screen) -> T) -> T {
        match &self.screen {
            Screen::Live(parser) => read(parser.screen()),
            Screen::Packed { screen, .. } => read(screen.rebuild().screen()),
        }
    }

    fn state_mut(&mut self) -> &mut ShadowState {
        match &mut self.screen {
            Screen::Live(parser) => parser.callbacks_mut(),
            Screen::Packed { state, .. } => state,
        }
    }

    pub fn state(&self) -> &ShadowState {
        match &self.screen {
            Screen::Live(parser) => parser.callbacks(),
            Screen::Packed { state, .. } => state,
        }
    }

    /// A copy of the screen to pack, if it may be packed: live, its output
    /// stopped between sequences, and not tried within `PACK_AGAIN`.
    pub fn screen_to_pack(&mut self) -> Option<PackJob> {
        self.settle_history();
        let Screen::Live(parser) = &self.screen else {
            return None;
        };
        let tried_lately = self
            .last_pack_try
            .is_some_and(|at| at.elapsed() < PACK_AGAIN);
        if tried_lately || !self.stream_end.at_boundary() {
            return None;
        }
        self.last_pack_try = Some(Instant::now());
        Some(PackJob {
            screen: parser.screen().clone(),
            changes: self.changes,
        })
    }

    /// Puts `packed` (made from `job`) in place of the live screen, unless output
    /// or a resize changed the screen since the copy. Returns the bytes let go.
    pub fn install_packed(&mut self, job: &PackJob, packed: PackedScreen) -> usize {
        let Screen::Live(parser) = &mut self.screen else {
            return 0;
        };
        if self.changes != job.changes {
            return 0;
        }
        let picture = picture_hash(&job.screen);
        let state = std::mem::replace(parser.callbacks_mut(), ShadowState::new(0));
        let freed = job.cell_bytes().saturating_sub(packed.len());
        self.screen = Screen::Packed {
            screen: packed,
            state,
            picture,
        };
        freed
    }

    /// Packs the screen now if it may be packed and packs exactly (see
    /// `Session::pack_screen` for the server's way, which probes unlocked).
    /// Returns the bytes let go.
    pub fn pack(&mut self) -> usize {
        let Some(job) = self.screen_to_pack() else {
            return 0;
        };
        match PackedScreen::pack(&job.screen) {
            Some(packed) => self.install_packed(&job, packed),
            None => 0,
        }
    }

    pub fn is_packed(&self) -> bool {
        matches!(self.screen, Screen::Packed { .. })
    }

    /// The parser, with the screen rebuilt first if it was packed: for output
    /// and resizes, which change it.
    fn live(&mut self) -> &mut vt100::Parser<ShadowState> {
        if let Screen::Packed { screen, state, .. } = &mut self.screen {
            let (rows, cols) = screen.size();
            let state = std::mem::replace(state, ShadowState::new(0));
            let mut parser = vt100::Parser::new_with_callbacks(rows, cols, 0, state);
            screen.unpack_into(&mut parser);
            self.screen = Screen::Live(Box::new(parser));
        }
        match &mut self.screen {
            Screen::Live(parser) => parser,
            Screen::Packed { .. } => unreachable!("unpacked just above"),
        }
    }

    /// A fingerprint of what the screen shows (text and which screen), to tell a
    /// real change from a redraw of the same picture. A packed screen keeps its.
    pub fn picture_hash(&self) -> u64 {
        match &self.screen {
            Screen::Live(parser) => picture_hash(parser.screen()),
            Screen::Packed { picture, .. } => *picture,
        }
    }

    /// Bytes that make a terminal of the session's size show exactly this state:
    /// `replay` lines of history pushed into its scrollback first, then the screen,
    /// cursor, modes and title.
    pub fn restore_sequence(&mut self, replay: usize) -> Vec<u8> {
        let mut out = String::from("\x1b[?2026h\x1b[0m\x1b[?1049l");
        self.write_history_replay(&mut out, replay);
        self.with_screen(|screen| {
            if screen.alternate_screen() {
                out.push_str("\x1b[?1049h");
            }
            out.push_str(&screen.state_formatted());
        });
        self.write_extra_modes(&mut out);
        out.push_str("\x1b[?2026l");
        out.into_bytes()
    }

    /// The screen's seq with its `restore_sequence(replay)`: a viewer of the
    /// session's size drawn from these continues from that seq.
    pub fn redraw_at_seq(&mut self, replay: usize) -> (u64, Vec<u8>) {
        (self.seq, self.restore_sequence(replay))
    }

    /// Prints history lines at the bottom of the main screen so they scroll into the
    /// local terminal's own scrollback, then scrolls them all off the visible area.
    pub fn write_history_replay(&mut self, out: &mut String, replay: usize) {
        if replay == 0 {
            return;
        }
        let rows = self.size().rows;
        let history = self.history();
        if history.is_empty() {
            return;
        }
        let _ = write!(out, "\x1b[{rows};1H");
        for line in history.last(replay) {
            out.push_str("\r\n");
            out.push_str(line);
            out.push_str("\x1b[0m");
        }
        for _ in 0..rows {
            out.push_str("\r\n");
        }
    }

    /// Title, focus reporting and keyboard flags: state vt100 does not replay.
    pub fn write_extra_modes(&self, out: &mut String) {
        let state = self.state();
        if !state.title.is_empty() {
            let title: String = state.title.chars().filter(|c| !c.is_control()).collect();
            let _ = write!(out, "\x1b]2;{title}\x07");
        }
        if state.focus_reporting {
            out.push_str("\x1b[?1004h");
        }
        if let Some(flags) = state.kitty_flags.last() {
            let _ = write!(out, "\x1b[>{flags}u");
        }
    }
}

fn picture_hash(screen: &vt100::Screen) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    screen.contents().hash(&mut hasher);
    screen.alternate_screen().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests;
