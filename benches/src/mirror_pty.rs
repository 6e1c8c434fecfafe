//! A terminal fed by the harness itself: a raw pty whose slave we write and whose
//! master a thread drains flat out. Copying a program's output into N of these is
//! the floor for N viewers: the bytes' own cost of N terminals, with no multiplexer.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use nix::pty::{openpty, Winsize};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};

use crate::output_watch::OutputWatch;
use crate::plan::{COLS, ROWS};

/// Read buffer; a pty hands out at most a few KiB per read, so this never limits.
const READ_BUFFER: usize = 64 * 1024;

pub struct MirrorPty {
    /// Where the copied output goes in (the slave side, raw like an attached
    /// client's terminal, so the bytes pass unchanged).
    pub input: File,
    pub output: Arc<OutputWatch>,
}

impl MirrorPty {
    pub fn open(output: Arc<OutputWatch>) -> Result<Self> {
        let size = Winsize {
            ws_row: ROWS,
            ws_col: COLS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).context("cannot open a pty")?;
        let mut termios = tcgetattr(&pty.slave).context("cannot read the pty's modes")?;
        cfmakeraw(&mut termios);
        tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).context("cannot make the pty raw")?;
        let mut master = File::from(pty.master);
        let watch = output.clone();
        std::thread::Builder::new()
            .name("mirror-drain".into())
            .spawn(move || {
                let mut buf = vec![0u8; READ_BUFFER];
                while let Ok(n @ 1..) = master.read(&mut buf) {
                    watch.feed(&buf[..n], Instant::now());
                }
                watch.close();
            })
            .context("cannot start a drain thread")?;
        Ok(Self {
            input: File::from(pty.slave),
            output,
        })
    }
}
