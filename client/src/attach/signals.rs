//! The signals an attached client acts on, installed before its terminal goes
//! raw: from then on, each one ends in the terminal given back as it was.

use std::time::Duration;

use anyhow::Result;
use tokio::signal::unix::{signal, Signal, SignalKind};

pub enum Event {
    /// The terminal changed size.
    Resized,
    /// The terminal hung up, or we were told to stop (SIGHUP, SIGTERM).
    Stop,
    /// Ctrl-Z from elsewhere (SIGTSTP): give the terminal back, stop, and attach
    /// again when continued.
    Suspend,
    /// Continued (SIGCONT), after a stop we did not choose (SIGSTOP): the
    /// shell had the terminal meanwhile and left it in its own modes. Said
    /// only once we are in front of the terminal again.
    Continued,
}

/// How often a client continued in the background looks whether it is in
/// front yet.
const FRONT_CHECK: Duration = Duration::from_millis(50);

pub struct Signals {
    window_change: Signal,
    hangup: Signal,
    terminate: Signal,
    suspend: Signal,
    continued: Signal,
    /// Continued in the background: `Continued` is owed for when we are in
    /// front (`fg` on a running job sends no SIGCONT, so we look).
    owes_continued: bool,
}

impl Signals {
    pub fn install() -> Result<Self> {
        Ok(Self {
            window_change: signal(SignalKind::window_change())?,
            hangup: signal(SignalKind::hangup())?,
            terminate: signal(SignalKind::terminate())?,
            suspend: signal(SignalKind::from_raw(nix::libc::SIGTSTP))?,
            continued: signal(SignalKind::from_raw(nix::libc::SIGCONT))?,
            owes_continued: false,
        })
    }

    /// The next signal. Cancel-safe.
    pub async fn next(&mut self) -> Event {
        loop {
            let event = tokio::select! {
                _ = self.window_change.recv() => Event::Resized,
                _ = self.hangup.recv() => Event::Stop,
                _ = self.terminate.recv() => Event::Stop,
                _ = self.suspend.recv() => Event::Suspend,
                _ = self.continued.recv() => Event::Continued,
                () = tokio::time::sleep(FRONT_CHECK), if self.owes_continued => Event::Continued,
            };
            if let Event::Continued = event {
                // Continued in the background (`bg`, `kill -CONT`, `kill %1`):
                // raw mode from there would stop us again (SIGTTOU).
                self.owes_continued = !in_front();
                if self.owes_continued {
                    continue;
                }
            }
            return event;
        }
    }
}

/// Whether a shell can continue this process once it stops: its parent is in the
/// same session but another process group (a job-control shell). Otherwise
/// (`ssh -t host symp attach`, `xterm -e`) the kernel ignores SIGTSTP, and so do we.
pub fn job_control() -> bool {
    use nix::unistd::{getpgid, getpgrp, getppid, getsid};
    let parent = getppid();
    let same_session = getsid(Some(parent)).ok() == getsid(None).ok();
    let other_group = getpgid(Some(parent)).is_ok_and(|group| group != getpgrp());
    same_session && other_group
}

/// Whether this process group is in front of its terminal.
fn in_front() -> bool {
    nix::unistd::tcgetpgrp(std::io::stdin()).is_ok_and(|group| group == nix::unistd::getpgrp())
}
