//! A terminal that never reads: a pty whose master nobody drains, like a viewer
//! stopped with Ctrl-Z or a window on a frozen machine.

use anyhow::Result;
use portable_pty::{Child, CommandBuilder, MasterPty};

use crate::process::{end_pty_child, spawn_in_pty};

pub struct FrozenPty {
    child: Box<dyn Child + Send + Sync>,
    /// Held open and never read, so the program's writes fill the pty and block.
    _master: Box<dyn MasterPty + Send>,
}

impl FrozenPty {
    pub fn spawn(cmd: CommandBuilder) -> Result<Self> {
        let (child, master) = spawn_in_pty(cmd)?;
        Ok(Self {
            child,
            _master: master,
        })
    }
}

impl Drop for FrozenPty {
    fn drop(&mut self) {
        end_pty_child(&mut self.child);
    }
}
