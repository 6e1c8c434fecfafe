//! Waiting for a session's program to end, without a thread: a pidfd becomes
//! readable when the process exits, and `waitid` on it reaps it with its real
//! status (exit code, or the signal that killed it).

use std::io;
use std::os::fd::AsFd;

use rustix::process::{pidfd_open, waitid, Pid, PidfdFlags, WaitId, WaitIdOptions, WaitIdStatus};
use symp_protocol::Status;
use tokio::io::Interest;

use crate::pty_fd::watch;

/// Resolves once the program `pid` has ended, and reaps it.
pub async fn reap(pid: u32) -> Status {
    match reap_by_pidfd(pid).await {
        Ok(status) => status,
        Err(err) => {
            // No pidfd (a kernel older than 5.3, a seccomp filter): a blocking
            // waitpid on the runtime's blocking pool does the same job.
            tracing::debug!(pid, "waiting without a pidfd: {err}");
            tokio::task::spawn_blocking(move || reap_blocking(pid))
                .await
                .unwrap_or(Status::Lost)
        }
    }
}

async fn reap_by_pidfd(pid: u32) -> io::Result<Status> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(io::ErrorKind::InvalidInput)?;
    // Works on a program that already ended too: it stays a zombie until reaped.
    let pidfd = watch(pidfd_open(pid, PidfdFlags::empty())?, Interest::READABLE)?;
    loop {
        let mut ready = pidfd.readable().await?;
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        match waitid(WaitId::PidFd(pidfd.get_ref().as_fd()), options)? {
            Some(status) => return Ok(status_of(&status)),
            None => ready.clear_ready(),
        }
    }
}

fn status_of(status: &WaitIdStatus) -> Status {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => Status::Exited { code },
        (None, Some(signal)) => Status::Killed { signal },
        (None, None) => Status::Lost,
    }
}

fn reap_blocking(pid: u32) -> Status {
    use nix::sys::wait::{waitpid, WaitStatus};
    loop {
        match waitpid(nix::unistd::Pid::from_raw(pid as i32), None) {
            Ok(WaitStatus::Exited(_, code)) => return Status::Exited { code },
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return Status::Killed {
                    signal: signal as i32,
                }
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => {
                tracing::error!(pid, "waitpid failed: {err}");
                return Status::Lost;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(script: &str) -> u32 {
        std::process::Command::new("sh")
            .args(["-c", script])
            .spawn()
            .expect("spawn sh")
            .id()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_pidfd_gives_the_exit_code_and_the_killing_signal() {
        let rt = runtime();
        assert_eq!(
            rt.block_on(reap(child("exit 3"))),
            Status::Exited { code: 3 }
        );
        assert_eq!(
            rt.block_on(reap(child("kill -9 $$"))),
            Status::Killed { signal: 9 }
        );
    }

    #[test]
    fn the_blocking_fallback_gives_the_same() {
        assert_eq!(reap_blocking(child("exit 7")), Status::Exited { code: 7 });
        assert_eq!(
            reap_blocking(child("kill -15 $$")),
            Status::Killed { signal: 15 }
        );
    }
}
