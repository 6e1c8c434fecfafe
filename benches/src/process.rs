//! Child processes: run one with a deadline or in a new pty, end and reap one,
//! read a server's memory.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::wait::wait_until;

/// Runs `cmd` to completion, killing it if it outlives `timeout`; fails unless it
/// exits 0. Returns what it printed.
pub fn run_checked(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {what}"))?;
    // Drain both pipes on threads so a chatty command cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let mut status = None;
    let waited = wait_until(&what, timeout, Duration::from_millis(2), || {
        status = child.try_wait()?;
        Ok(status.is_some())
    });
    if let Err(err) = waited {
        let _ = child.kill();
        let _ = child.wait();
        return Err(err);
    }
    let output = Output {
        status: status.context("no exit status")?,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output)
}

/// Whether a process with this pid exists and has not ended (a zombie waiting
/// for a parent that is not us to reap it counts as ended).
pub fn is_alive(pid: u32) -> bool {
    if kill(Pid::from_raw(pid as i32), None).is_err() {
        return false;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state letter follows the parenthesised command name.
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    !matches!(state, Some('Z') | Some('X') | None)
}

/// SIGKILL, for the last resort of cleanup.
pub fn kill_hard(pid: u32) {
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

/// Ends a child started in a pty and reaps it.
pub fn end_pty_child(child: &mut Box<dyn portable_pty::Child + Send + Sync>) {
    if let Some(pid) = child.process_id() {
        kill_hard(pid);
    }
    let _ = child.wait();
}

/// Resident memory of a process, in KiB (VmRSS from /proc).
pub fn rss_kib(pid: u32) -> Result<u64> {
    proc_kib(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// Memory the process allocated itself, in KiB: its anonymous pages (heap,
/// stacks, data it wrote; `Anonymous` in /proc/PID/smaps_rollup), without the
/// code and libraries it maps from files.
pub fn anonymous_kib(pid: u32) -> Result<u64> {
    proc_kib(&format!("/proc/{pid}/smaps_rollup"), "Anonymous:")
}

/// The KiB figure on the line of `path` that starts with `key`.
fn proc_kib(path: &str, key: &str) -> Result<u64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with(key))
        .with_context(|| format!("no {key} in {path}"))?;
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("bad {key} line {line:?}"))
}

/// Starts `cmd` in a new 120x40 pty. Only the program keeps the slave, so its end
/// reaches a reader of the master as EOF/EIO.
pub fn spawn_in_pty(
    cmd: portable_pty::CommandBuilder,
) -> Result<(
    Box<dyn portable_pty::Child + Send + Sync>,
    Box<dyn portable_pty::MasterPty + Send>,
)> {
    let pair = portable_pty::native_pty_system()
        .openpty(crate::plan::pty_size())
        .context("cannot open a pty")?;
    let child = pair
        .slave
        .spawn_command(cmd)
        .context("cannot start a program in a pty")?;
    drop(pair.slave);
    Ok((child, pair.master))
}
