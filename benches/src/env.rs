//! Everything a scenario needs: the plan, the workload files, and a way to start a
//! fresh private server of each contender.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::plan::Plan;
use crate::tools::symp::SympServer;
use crate::tools::tmux::TmuxServer;
use crate::tools::{Contender, Multiplexer};
use crate::workload_files::WorkloadFiles;

pub struct Env {
    pub plan: Plan,
    pub files: WorkloadFiles,
    pub symp_exe: PathBuf,
    /// `None` when tmux is not installed or not asked for.
    pub tmux_exe: Option<PathBuf>,
}

impl Env {
    /// Bare pty and symp always; tmux when we have it.
    pub fn contenders(&self) -> Vec<Contender> {
        let mut all = vec![Contender::Bare, Contender::Symp];
        if self.tmux_exe.is_some() {
            all.push(Contender::Tmux);
        }
        all
    }

    /// A fresh server with a private socket; dropping it cleans everything up.
    pub fn start(&self, contender: Contender) -> Result<Box<dyn Multiplexer>> {
        Ok(match contender {
            Contender::Symp => Box::new(SympServer::start(&self.symp_exe)?),
            Contender::Tmux => {
                let exe = self.tmux_exe.as_ref().context("tmux is not available")?;
                Box::new(TmuxServer::new(exe)?)
            }
            Contender::Bare => bail!("a bare pty has no server"),
        })
    }

    /// A private directory for one run's fifo and marker files.
    pub fn scratch(&self) -> Result<TempDir> {
        tempfile::Builder::new()
            .prefix("symp-bench-run")
            .tempdir()
            .context("cannot make a scratch directory")
    }
}
