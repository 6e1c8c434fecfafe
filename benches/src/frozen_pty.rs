//! A terminal that never reads: a pty whose master nobody drains, like a viewer
//! stopped with Ctrl-Z or a window on a frozen machine.

use anyhow::{Context, Result};
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty};

use crate::plan::pty_size;
use crate::process::end_pty_child;

pub struct FrozenPty {
    child: Box<dyn Child + Send + Sync>,
    /// Held open and never read, so the program's writes fill the pty and block.
    _master: Box<dyn MasterPty + Send>,
}

impl FrozenPty {
    pub fn spawn(cmd: CommandBuilder) -> Result<Self> {
        let pair = native_pty_system()
            .openpty(pty_size())
            .context("cannot open a pty")?;
        let child = pair
            .slave
            .spawn_command(cmd)
            .context("cannot start a program in a pty")?;
        drop(pair.slave);
        Ok(Self {
            child,
            _master: pair.master,
        })
    }
}

impl Drop for FrozenPty {
    fn drop(&mut self) {
        end_pty_child(&mut self.child);
    }
}
