//! Condition-based waiting with a deadline: a benchmark that hangs measures nothing.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

/// Polls `cond` every `poll` until it holds, and returns when it was first seen
/// holding; fails after `timeout`, naming `what` it waited for.
pub fn wait_until(
    what: &str,
    timeout: Duration,
    poll: Duration,
    mut cond: impl FnMut() -> Result<bool>,
) -> Result<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        if cond()? {
            return Ok(Instant::now());
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:.0?} waiting for {what}");
        }
        std::thread::sleep(poll);
    }
}

/// Waits for a file to exist (the marker a workload touches when it is done).
pub fn wait_for_file(path: &std::path::Path, timeout: Duration) -> Result<Instant> {
    let what = format!("{} to appear", path.display());
    // 1 ms polls: fine-grained next to runs that take tenths of seconds or more,
    // and a stat() a millisecond costs nothing measurable.
    wait_until(&what, timeout, Duration::from_millis(1), || {
        Ok(path.exists())
    })
}
