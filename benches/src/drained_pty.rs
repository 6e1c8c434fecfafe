//! A terminal that reads as fast as the machine allows: a pty whose master a
//! dedicated thread drains flat out, watching the output for needles.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use portable_pty::{Child, CommandBuilder, MasterPty};

use crate::output_watch::OutputWatch;
use crate::process::{end_pty_child, spawn_in_pty};

/// Read buffer; a pty hands out at most a few KiB per read, so this never limits.
const READ_BUFFER: usize = 64 * 1024;

pub struct DrainedPty {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    /// Kept open: closing every master fd would hang up the program.
    _master: Box<dyn MasterPty + Send>,
    pub output: Arc<OutputWatch>,
}

impl DrainedPty {
    /// Runs `cmd` in a new 120x40 pty and starts draining it into `output`
    /// (needles watched before this call see the program's very first byte).
    pub fn spawn(cmd: CommandBuilder, output: Arc<OutputWatch>) -> Result<Self> {
        Self::spawn_mirrored(cmd, output, Vec::new())
    }

    /// Like `spawn`, and every chunk read is also written into each of `mirrors`.
    pub fn spawn_mirrored(
        cmd: CommandBuilder,
        output: Arc<OutputWatch>,
        mut mirrors: Vec<File>,
    ) -> Result<Self> {
        let (child, master) = spawn_in_pty(cmd)?;
        let mut reader = master.try_clone_reader().context("pty reader")?;
        let writer = master.take_writer().context("pty writer")?;
        let watch = output.clone();
        std::thread::Builder::new()
            .name("drain".into())
            .spawn(move || {
                let mut buf = vec![0u8; READ_BUFFER];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            watch.feed(&buf[..n], Instant::now());
                            for mirror in &mut mirrors {
                                let _ = mirror.write_all(&buf[..n]);
                            }
                        }
                    }
                }
                watch.close();
            })
            .context("cannot start a drain thread")?;
        Ok(Self {
            child,
            writer,
            _master: master,
            output,
        })
    }

    /// Types bytes into the terminal, as a person at the keyboard would.
    pub fn type_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(())
    }
}

impl Drop for DrainedPty {
    fn drop(&mut self) {
        // Kill before the writer drops: dropping it types ^D into the program.
        end_pty_child(&mut self.child);
    }
}
