//! What a run measures and how big: the terminal every session gets, the workload
//! sizes, repetitions and time limits, for `--quick` and full runs.

use std::time::Duration;

use portable_pty::PtySize;

/// Every session and every client terminal under test is 120x40.
pub const COLS: u16 = 120;
pub const ROWS: u16 = 40;
/// Scrollback both multiplexers keep per session.
pub const SCROLLBACK_LINES: usize = 10_000;
/// The outer terminal type every client (and bare pty) runs under.
pub const TERM: &str = "xterm-256color";

pub fn pty_size() -> PtySize {
    PtySize {
        rows: ROWS,
        cols: COLS,
        pixel_width: 0,
        pixel_height: 0,
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// Runs of every measurement, interleaved contender by contender.
    pub reps: usize,
    /// `seq 1 N`.
    pub seq_lines: u64,
    pub coloured_bytes: usize,
    pub tui_bytes: usize,
    /// Viewers in the "many viewers" throughput runs.
    pub many_viewers: usize,
    /// Keystrokes per echo-latency run.
    pub keystrokes: usize,
    /// History lines above the screen in the second attach run.
    pub attach_history_lines: usize,
    /// Lines a session prints before the "after output" memory reading.
    pub memory_output_lines: usize,
    /// Sessions, and lines each prints, for the reading of sessions idle after
    /// work (what agents that printed for a while hold).
    pub printed_sessions: (usize, usize),
    /// Whether throughput runs spawn an idle second session beside the measured one.
    pub neighbour: bool,
    /// Idle session counts for the memory readings.
    pub idle_session_counts: Vec<usize>,
    /// The most any single wait in a run may take before the run counts as failed.
    pub step_timeout: Duration,
}

impl Plan {
    /// The full run: workloads of the size the targets are stated for.
    pub fn full(reps: usize) -> Self {
        Self {
            reps,
            seq_lines: 1_000_000,
            coloured_bytes: 16 * 1024 * 1024,
            tui_bytes: 16 * 1024 * 1024,
            many_viewers: 10,
            keystrokes: 300,
            attach_history_lines: 1000,
            memory_output_lines: 50_000,
            printed_sessions: (10, 5_000),
            neighbour: false,
            idle_session_counts: vec![1, 20, 100],
            step_timeout: Duration::from_secs(120),
        }
    }

    /// One repetition of smaller workloads: a smoke run in well under a minute.
    pub fn quick() -> Self {
        Self {
            reps: 1,
            seq_lines: 100_000,
            coloured_bytes: 2 * 1024 * 1024,
            tui_bytes: 2 * 1024 * 1024,
            keystrokes: 50,
            step_timeout: Duration::from_secs(30),
            ..Self::full(1)
        }
    }
}
