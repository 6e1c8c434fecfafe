//! Command results on stdout. A reader that goes away early (`symp list | head`)
//! ends the command quietly: no panic, no error line, exit 0.

use std::fmt;
use std::io::Write;

/// Stdout was closed by its reader; `main` exits 0 without a message.
#[derive(Debug, thiserror::Error)]
#[error("stdout was closed")]
pub struct StdoutClosed;

/// Writes text to stdout and flushes it.
pub fn write(text: fmt::Arguments) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    written(out.write_fmt(text).and_then(|()| out.flush()))
}

/// The outcome of a write to stdout, a closed pipe as `StdoutClosed`.
pub fn written(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(err) => Err(anyhow::Error::new(err).context("cannot write to stdout")),
    }
}

/// `println!` that returns `StdoutClosed` instead of panicking on a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;
