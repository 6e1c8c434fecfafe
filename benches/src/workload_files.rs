//! The workload files, written once per run into a private directory, and the shell
//! command that prints each workload inside a session.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::TempDir;

use crate::plan::{Plan, ROWS};
use crate::tools::sh_quote;
use crate::workloads::coloured::{coloured_bytes, coloured_lines};
use crate::workloads::screen::screen_with_marker;
use crate::workloads::tui::tui_bytes;
use crate::workloads::{seq_bytes, Workload};

/// What the attach benchmark looks for on the last row of the screen.
pub const ATTACH_MARK: &str = "SYMPBENCH-ATTACH-MARK";

pub struct WorkloadFiles {
    dir: TempDir,
    seq_lines: u64,
    seq_len: u64,
    coloured: PathBuf,
    tui: PathBuf,
    /// Coloured lines printed before the "after output" memory reading.
    pub memory_output: PathBuf,
    /// Coloured lines each of the `printed_sessions` prints.
    pub printed_session_output: PathBuf,
    /// A full screen of plain text, the marker on its last row.
    pub plain_screen: PathBuf,
    /// The same with history lines above it, to be replayed on attach.
    pub history_screen: PathBuf,
}

impl WorkloadFiles {
    pub fn generate(plan: &Plan) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("symp-bench-data")
            .tempdir()
            .context("cannot make the workload directory")?;
        let write = |name: &str, bytes: Vec<u8>| -> Result<PathBuf> {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).with_context(|| format!("cannot write {name}"))?;
            Ok(path)
        };
        Ok(Self {
            seq_lines: plan.seq_lines,
            seq_len: seq_bytes(plan.seq_lines).len() as u64,
            coloured: write("coloured.txt", coloured_bytes(plan.coloured_bytes))?,
            tui: write(
                "tui.txt",
                tui_bytes(plan.tui_bytes, crate::plan::COLS, ROWS),
            )?,
            memory_output: write("memory.txt", coloured_lines(plan.memory_output_lines))?,
            printed_session_output: write("printed.txt", coloured_lines(plan.printed_sessions.1))?,
            plain_screen: write("plain.txt", screen_with_marker(0, ROWS, ATTACH_MARK))?,
            history_screen: write(
                "history.txt",
                screen_with_marker(plan.attach_history_lines, ROWS, ATTACH_MARK),
            )?,
            dir,
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The shell command that prints the workload.
    pub fn command(&self, workload: Workload) -> String {
        match workload {
            Workload::Seq => format!("seq 1 {}", self.seq_lines),
            Workload::Coloured => format!("cat {}", sh_quote(&self.coloured.to_string_lossy())),
            Workload::Tui => format!("cat {}", sh_quote(&self.tui.to_string_lossy())),
        }
    }

    /// Bytes the workload prints (before the pty adds carriage returns).
    pub fn size(&self, workload: Workload) -> u64 {
        let file_len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        match workload {
            Workload::Seq => self.seq_len,
            Workload::Coloured => file_len(&self.coloured),
            Workload::Tui => file_len(&self.tui),
        }
    }

    /// A short label naming the workload and its size, for the table.
    pub fn label(&self, workload: Workload) -> String {
        let mb = self.size(workload) as f64 / (1024.0 * 1024.0);
        match workload {
            Workload::Seq => format!("seq 1 {} ({mb:.1} MiB)", self.seq_lines),
            _ => format!("{} ({mb:.0} MiB)", workload.label()),
        }
    }
}
