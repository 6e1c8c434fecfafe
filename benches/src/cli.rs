//! The harness's command line.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// symp side by side with tmux and a bare pty: throughput, keystroke echo, attach
/// time and server memory, repeated, interleaved, and reported as ratios.
#[derive(Parser, Debug)]
#[command(name = "symp-benches")]
pub struct Options {
    /// Also measure this multiplexer (skipped, with a note, when it is not installed).
    #[arg(long, value_enum, value_name = "TOOL")]
    pub vs: Vec<Rival>,
    /// One repetition of smaller workloads: a smoke run in under a minute.
    #[arg(long)]
    pub quick: bool,
    /// Repetitions of every measurement in a full run.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub reps: usize,
    /// Run only the measurements whose name contains TEXT (e.g. "attach", "seq").
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,
    /// The symp binary to measure (default: `symp` next to this executable).
    #[arg(long, value_name = "PATH")]
    pub symp: Option<PathBuf>,
    /// In throughput runs, an idle second session beside the measured one, as most
    /// users have (its reader, viewer-less, shares the server's one I/O thread).
    #[arg(long)]
    pub neighbour: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Rival {
    Tmux,
}
