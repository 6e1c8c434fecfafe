//! The starting gun: a fifo the workload blocks on, so the clock starts the moment
//! the harness writes to it, with the program already running and any viewers attached.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::wait::wait_until;

pub struct GoSignal {
    path: PathBuf,
}

impl GoSignal {
    pub fn create(path: &Path) -> Result<Self> {
        nix::unistd::mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR)
            .with_context(|| format!("cannot make the fifo {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits (up to `timeout`) until the workload is blocked reading the fifo, then
    /// releases it. Returns the moment of release: time zero of the measurement.
    pub fn fire(&self, timeout: Duration) -> Result<Instant> {
        let mut fifo = None;
        // A non-blocking open for writing fails with ENXIO until a reader has it open.
        wait_until(
            "the workload to wait on its start fifo",
            timeout,
            Duration::from_millis(1),
            || match open(
                &self.path,
                OFlag::O_WRONLY | OFlag::O_NONBLOCK,
                Mode::empty(),
            ) {
                Ok(fd) => {
                    fifo = Some(File::from(fd));
                    Ok(true)
                }
                Err(Errno::ENXIO) => Ok(false),
                Err(err) => Err(err).context("cannot open the start fifo"),
            },
        )?;
        let mut fifo = fifo.context("start fifo not open")?;
        let start = Instant::now();
        fifo.write_all(b"go\n")
            .context("cannot write the start fifo")?;
        Ok(start)
    }
}
