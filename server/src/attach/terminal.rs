//! A client's terminal, handed over for the attach: the server reads its keys
//! (the detach key and the terminal's query replies picked out here) and draws
//! into it, with no client process on a keystroke's way in or its echo's way out.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::time::Instant;

use super::detach_key::{DetachFilter, DetachKey, KeyAction, DOUBLE_PRESS_WINDOW_MS};
use super::{replies, took_input, End};
use crate::clients::ClientId;
use crate::pty_fd::PtyFd;
use crate::session::Session;

pub struct Terminal {
    keys: PtyFd,
    output: PtyFd,
    detach_key: DetachKey,
}

impl Terminal {
    /// Takes the fds an `AttachTerminal` frame carried: the client's terminal
    /// opened for keys, then for output. The client opened them afresh, so they
    /// are not its shell's file descriptions and can be made non-blocking. Must be
    /// called inside the runtime.
    pub fn new(fds: Vec<OwnedFd>, detach_key: Option<&str>) -> Result<Self> {
        let detach_key = match detach_key {
            Some(text) => DetachKey::parse(text)?,
            None => DetachKey::default(),
        };
        let Ok::<[OwnedFd; 2], _>([keys, output]) = fds.try_into() else {
            bail!("an attach with a terminal must carry its two fds (keys, output)");
        };
        for fd in [&keys, &output] {
            if !nix::unistd::isatty(fd).unwrap_or(false) {
                bail!("the fds an attach carried are not a terminal");
            }
        }
        Ok(Self {
            keys: PtyFd::from_terminal(keys).context("cannot watch the client's terminal")?,
            output: PtyFd::from_terminal(output).context("cannot watch the client's terminal")?,
            detach_key,
        })
    }

    /// Where the viewer's picture goes.
    pub fn output(&self) -> &PtyFd {
        &self.output
    }

    /// Reads keys until the detach key, or until the terminal goes away. Keys go
    /// to the program (not a read-only viewer's), replies to the program's queries
    /// only from the input owner's terminal. The terminal is read on while the
    /// program's input queue is full (a hung program, a huge paste): what was typed
    /// meanwhile waits here, in order, and the detach key still works.
    pub(super) async fn read_keys(
        &self,
        session: &Arc<Session>,
        id: ClientId,
        read_only: bool,
    ) -> End {
        let mut filter = DetachFilter::new(self.detach_key.clone());
        let mut window_ends: Option<Instant> = None;
        let mut unsent = Unsent {
            session: session.clone(),
            bytes: Vec::new(),
        };
        loop {
            let window = async {
                match window_ends {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            let bytes = tokio::select! {
                read = self.keys.read_with(<[u8]>::to_vec, || {}) => match read {
                    Ok(Some(bytes)) => bytes,
                    // Hung up (EOF or EIO): the terminal is gone.
                    Ok(None) | Err(_) => return End::Gone,
                },
                room = session.input_room(), if !unsent.bytes.is_empty() => {
                    let bytes = std::mem::take(&mut unsent.bytes);
                    // An ended program takes no more; its end is on its way to the viewer.
                    if let Some(room) = room {
                        room.send(bytes);
                    }
                    continue;
                }
                () = window => {
                    window_ends = None;
                    if filter.expire() {
                        return End::Detached;
                    }
                    continue;
                }
            };
            if replies::is_terminal_reply(&bytes) {
                if !read_only && session.clients().is_leader(id) {
                    unsent.bytes.extend_from_slice(&bytes);
                }
                continue;
            }
            for action in filter.feed(&bytes) {
                match action {
                    KeyAction::Send(_) if read_only => {}
                    KeyAction::Send(bytes) => {
                        took_input(session, id).await;
                        unsent.bytes.extend_from_slice(&bytes);
                    }
                    KeyAction::Armed => window_ends = Some(window_from_now()),
                    KeyAction::Detach => return End::Detached,
                }
            }
        }
    }
}

/// Keys read but not yet queued for the program. However the attach ends
/// (detached, the terminal or the client gone), they still go, in order: a task
/// queues them behind what is queued already.
struct Unsent {
    session: Arc<Session>,
    bytes: Vec<u8>,
}

impl Drop for Unsent {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        if !bytes.is_empty() {
            let session = self.session.clone();
            // Not at all while the runtime itself goes (the server stopping).
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                // Typing into an ended session does nothing.
                runtime.spawn(async move { session.write_input(bytes).await });
            }
        }
    }
}

/// When a first press of the detach key stops waiting for a second.
fn window_from_now() -> Instant {
    Instant::now() + Duration::from_millis(DOUBLE_PRESS_WINDOW_MS)
}
