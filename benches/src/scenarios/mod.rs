//! The measurements: each runs one contender once and returns its samples.

pub mod attach_time;
pub mod echo_latency;
pub mod memory;
pub mod throughput;

use std::sync::Arc;

use anyhow::Result;
use portable_pty::CommandBuilder;

use crate::drained_pty::DrainedPty;
use crate::output_watch::{NeedleId, OutputWatch};
use crate::plan::TERM;

/// Session name used by the single-session scenarios.
pub const SESSION: &str = "bench";

/// What one number measures, so the report can format and compare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    KiB,
}

/// One number from one run: the table row it belongs to and its value.
#[derive(Clone, Debug)]
pub struct Sample {
    pub row: String,
    pub unit: Unit,
    pub value: f64,
}

impl Sample {
    pub fn seconds(row: impl Into<String>, value: std::time::Duration) -> Self {
        Self {
            row: row.into(),
            unit: Unit::Seconds,
            value: value.as_secs_f64(),
        }
    }
}

/// A shell command that prints `SYMPBENCH-WORD` on a line of its own. The marker is
/// assembled by printf, so the literal string never appears in any command line.
pub fn print_marker(word: &str) -> String {
    format!("printf '%s-%s\\n' SYMPBENCH {word}")
}

/// The text `print_marker(word)` prints.
pub fn marker(word: &str) -> String {
    format!("SYMPBENCH-{word}")
}

/// `sh -c SCRIPT` for a bare pty, with the same environment the clients get.
pub fn sh_command(script: &str) -> CommandBuilder {
    let mut cmd = CommandBuilder::new("sh");
    cmd.args(["-c", script]);
    cmd.env("TERM", TERM);
    cmd.env_remove("TMUX");
    cmd.cwd(std::env::temp_dir());
    cmd
}

/// Runs `cmd` in a drained pty, watching for `needle` from its very first byte.
pub fn spawn_watching(cmd: CommandBuilder, needle: &str) -> Result<(DrainedPty, NeedleId)> {
    let watch = Arc::new(OutputWatch::default());
    let id = watch.watch(needle.as_bytes());
    Ok((DrainedPty::spawn(cmd, watch)?, id))
}
