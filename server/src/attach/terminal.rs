//! A client's terminal, handed over for the attach: the server reads its keys
//! (the detach key and the terminal's query replies picked out here) and draws
//! into it, with no client process on a keystroke's way in or its echo's way out.

use std::future::Future;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::sync::mpsc::OwnedPermit;
use tokio::sync::watch;
use tokio::time::Instant;

use super::detach_key::{DetachFilter, DetachKey, KeyAction, DOUBLE_PRESS_WINDOW_MS};
use super::holder::Holder;
use super::{replies, took_input, End};
use crate::clients::ClientId;
use crate::pty_fd::{self, PtyFd};
use crate::session::Session;

/// Keys held for a program that is not reading them, at most. Past it the
/// terminal is not read until the program takes some: the typist (or a paste)
/// waits, as it would for a program in a terminal of its own.
const MAX_UNSENT: usize = 1024 * 1024;

/// How often a client that lost its terminal (stopped, its shell in front) is
/// asked whether it has it back.
const AWAY_CHECK: Duration = Duration::from_millis(100);

pub struct Terminal {
    keys: PtyFd,
    /// Written to only, and watched only while a write waits for room: a
    /// registration for reading would raise an event at every key typed.
    output: OwnedFd,
    detach_key: DetachKey,
    /// The client, to tell whether it still holds the terminal; `None` where
    /// that cannot be told (then it is taken to).
    holder: Option<Holder>,
}

/// What reading the terminal gave.
enum Keys {
    Read(Vec<u8>),
    /// Hung up (EOF or EIO): the terminal is gone.
    Gone,
    /// The client does not hold its terminal (stopped): its shell reads it now.
    Away,
}

impl Terminal {
    /// Takes the fds an `AttachTerminal` frame carried: the client's terminal
    /// opened for keys, then for output. The client opened them afresh, so they
    /// are not its shell's file descriptions and can be made non-blocking. Must be
    /// called inside the runtime.
    /// `client`: the attaching process, whose hold on the terminal is watched.
    pub fn new(fds: Vec<OwnedFd>, detach_key: Option<&str>, client: Option<i32>) -> Result<Self> {
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
        if is_our_controlling_terminal(&keys) {
            // Reading it from outside its foreground process group would stop
            // the whole server (SIGTTIN): a `--foreground` server run as a job.
            bail!("this is the server's own controlling terminal; it cannot draw there");
        }
        pty_fd::set_nonblocking(&output).context("cannot use the client's terminal")?;
        let holder = Holder::of(client, &output);
        Ok(Self {
            keys: PtyFd::from_terminal(keys).context("cannot watch the client's terminal")?,
            output,
            detach_key,
            holder,
        })
    }

    /// Where the viewer's picture goes.
    pub fn output(&self) -> &OwnedFd {
        &self.output
    }

    /// Whether the client still holds its terminal: not while it is stopped
    /// and its shell is in front, when drawing there would draw over the shell.
    pub fn held(&self) -> bool {
        self.holder.as_ref().is_none_or(Holder::holds)
    }

    /// Waits until the client holds its terminal again.
    pub async fn until_held(&self) {
        while !self.held() {
            tokio::time::sleep(AWAY_CHECK).await;
        }
    }

    /// The next keys typed, read only while the client holds the terminal:
    /// otherwise they are its shell's.
    async fn next_keys(&self) -> Keys {
        // Asked afresh before every read: a cached yes would take keys typed
        // to the shell right after it took the terminal back.
        let held_now = || self.holder.as_ref().is_none_or(Holder::holds_now);
        match self.keys.read_if(<[u8]>::to_vec, || {}, held_now).await {
            None => Keys::Away,
            Some(Ok(Some(bytes))) => Keys::Read(bytes),
            Some(Ok(None) | Err(_)) => Keys::Gone,
        }
    }

    /// Reads keys until the detach key, or until the terminal goes away. Keys go
    /// to the program (not a read-only viewer's), replies to the program's queries
    /// only from the input owner's terminal. The terminal is read on while the
    /// program's input queue is full (a hung program, a big paste), up to
    /// `MAX_UNSENT`: what was typed meanwhile waits here, in order, and the detach
    /// key still works. Past that the terminal waits, the detach key with it.
    pub(super) async fn read_keys(
        &self,
        session: &Arc<Session>,
        id: ClientId,
        read_only: bool,
    ) -> End {
        let mut filter = DetachFilter::new(self.detach_key.clone());
        let mut window_ends: Option<Instant> = None;
        let mut queue = KeyQueue::new(session);
        let mut away = false;
        loop {
            let window = async {
                match window_ends {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            let room_for_keys = queue.unsent.len() < MAX_UNSENT;
            queue.notice_drained();
            let bytes = tokio::select! {
                read = self.next_keys(), if room_for_keys && !away => match read {
                    Keys::Read(bytes) => bytes,
                    Keys::Gone => return End::Gone,
                    Keys::Away => {
                        away = true;
                        continue;
                    }
                },
                () = self.until_held(), if away => {
                    away = false;
                    continue;
                }
                room = room(&mut queue.asking, session), if !queue.unsent.is_empty() && queue.may_ask() => {
                    queue.send(room);
                    continue;
                }
                // Watched only while keys wait for it: a key alone costs no wakeup.
                through = queue.drained.changed(), if queue.in_flight && !queue.unsent.is_empty() => {
                    // Once the writer has found the queue empty, our write is through.
                    if through.is_ok() {
                        queue.in_flight = false;
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
                    queue.unsent.extend_from_slice(&bytes);
                }
                continue;
            }
            // Every action is taken before anything is awaited, so an attach that
            // ends meanwhile loses none of them.
            let mut typed = false;
            for action in filter.feed(&bytes) {
                match action {
                    KeyAction::Send(_) if read_only => {}
                    KeyAction::Send(bytes) => {
                        typed = true;
                        queue.unsent.extend_from_slice(&bytes);
                    }
                    KeyAction::Armed => window_ends = Some(window_from_now()),
                    KeyAction::Detach => return End::Detached,
                }
            }
            if typed {
                took_input(session, id).await;
            }
        }
    }
}

/// The viewer's keys on their way into the program's input queue, which bounds
/// writes, not bytes: keys typed faster than the program reads wait here (up to
/// `MAX_UNSENT`), not as up to 1,024 writes of up to that much each. At most one
/// write of ours is queued at a time; the next is asked for once the writer has
/// emptied the queue. The request for room is kept across keys, so its place in
/// the queue's line holds: a later `symp send` or query answer never overtakes
/// keys typed before it. When the queue is empty, as usual, a key goes at once.
struct KeyQueue {
    session: Arc<Session>,
    /// Keys read but not yet queued. However the attach ends (detached, the
    /// terminal or the client gone), they still go, in order (see `Drop`).
    unsent: Vec<u8>,
    /// The request for room, once made.
    asking: Option<Pin<Box<RoomRequest>>>,
    /// A write of ours may still be queued or being written.
    in_flight: bool,
    drained: watch::Receiver<u64>,
}

type RoomRequest = dyn Future<Output = Option<OwnedPermit<Vec<u8>>>> + Send;

impl KeyQueue {
    fn new(session: &Arc<Session>) -> Self {
        Self {
            session: session.clone(),
            unsent: Vec::new(),
            asking: None,
            in_flight: false,
            drained: session.input_drained.subscribe(),
        }
    }

    /// Takes in a drain that happened while nobody watched.
    fn notice_drained(&mut self) {
        if self.in_flight && self.drained.has_changed().unwrap_or(false) {
            self.in_flight = false;
        }
    }

    /// Whether room may be asked for (or is being asked for) now.
    fn may_ask(&self) -> bool {
        self.asking.is_some() || !self.in_flight
    }

    /// Hands the unsent keys over, into the room the request got.
    fn send(&mut self, room: Option<OwnedPermit<Vec<u8>>>) {
        self.asking = None;
        let keys = std::mem::take(&mut self.unsent);
        // An ended program takes no more; its end is on its way to the viewer.
        if let Some(room) = room {
            // Drains from before this write do not count.
            self.drained.borrow_and_update();
            room.send(keys);
            self.in_flight = true;
        }
    }
}

impl Drop for KeyQueue {
    /// Keys still unsent go after what is queued already, by a task of their own.
    fn drop(&mut self) {
        let keys = std::mem::take(&mut self.unsent);
        if !keys.is_empty() {
            let session = self.session.clone();
            // Not at all while the runtime itself goes (the server stopping).
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                // Typing into an ended session does nothing.
                runtime.spawn(async move { session.write_input(keys).await });
            }
        }
    }
}

/// Room for one write in the program's input queue; `None` once the program has
/// ended. Cancel-safe: the request is kept in `asking` until it is answered
/// (`KeyQueue::send` then clears it).
async fn room(
    asking: &mut Option<Pin<Box<RoomRequest>>>,
    session: &Session,
) -> Option<OwnedPermit<Vec<u8>>> {
    let asking = asking.get_or_insert_with(|| {
        let queue = session.input_sender();
        Box::pin(async move { queue?.reserve_owned().await.ok() })
    });
    asking.await
}

/// Whether `fd` is the terminal this process has as its controlling terminal:
/// the controlling terminal of our session. (Not by opening `/dev/tty`: that
/// alias's `st_rdev` names no particular terminal.)
fn is_our_controlling_terminal(fd: &OwnedFd) -> bool {
    match (nix::sys::termios::tcgetsid(fd), nix::unistd::getsid(None)) {
        (Ok(terminal_session), Ok(ours)) => terminal_session == ours,
        // Not any session's controlling terminal, or no session to ask about.
        _ => false,
    }
}

/// When a first press of the detach key stops waiting for a second.
fn window_from_now() -> Instant {
    Instant::now() + Duration::from_millis(DOUBLE_PRESS_WINDOW_MS)
}
