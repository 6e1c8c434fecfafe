//! `symp attach`: mirror a session in this terminal until the detach key, the
//! program's end, or the terminal going away.

mod keyboard;
mod keys;
mod replies;
mod terminal;

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::time::Duration;

use anyhow::{bail, Result};
use futures_util::{SinkExt, StreamExt};
use nix::sys::signal::Signal;
use symp_protocol::{ClientMsg, ServerMsg, Size, Status};
use symp_server::Paths;
use tokio::signal::unix::{signal, SignalKind};
use tokio::time::Instant;

use crate::commands::terminal_size;
use crate::connect::{connect, recv};
use crate::output::outln;
use keyboard::Keyboard;
use keys::{DetachFilter, DetachKey, KeyAction, DOUBLE_PRESS_WINDOW_MS};
use terminal::RawModeGuard;

pub struct AttachOptions {
    name: String,
    read_only: bool,
    detach_key: DetachKey,
}

impl AttachOptions {
    pub fn new(
        paths: &Paths,
        name: String,
        read_only: bool,
        detach_key: Option<&str>,
    ) -> Result<Self> {
        let configured = symp_server::config::Config::load(paths)?.detach_key;
        let detach_key = match detach_key.or(configured.as_deref()) {
            Some(text) => DetachKey::parse(text)?,
            None => DetachKey::default(),
        };
        Ok(Self {
            name,
            read_only,
            detach_key,
        })
    }
}

pub fn require_terminal() -> Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!("attach needs a terminal: stdin and stdout must be a tty (for scripts, see `symp send` and `symp capture`)");
    }
    Ok(())
}

/// Why the attach ended.
enum Outcome {
    Detached,
    Ended(Status),
    /// Our terminal hung up or we were told to stop: nobody to tell.
    Hangup,
    Failed(String),
}

pub async fn run(paths: &Paths, options: AttachOptions) -> Result<u8> {
    let AttachOptions {
        name,
        read_only,
        detach_key,
    } = options;
    let size = terminal_size().unwrap_or(Size { cols: 80, rows: 24 });
    let mut conn = connect(paths).await?;
    conn.send(ClientMsg::Attach {
        name: name.clone(),
        read_only,
        size,
    })
    .await?;
    // Errors (unknown session, ...) arrive before the terminal changes at all.
    let ServerMsg::Snapshot(first) = recv(&mut conn).await? else {
        bail!("unexpected reply to attach")
    };
    let mut guard = RawModeGuard::enter()?;
    write_out(terminal::SAVE_TITLE.as_bytes())?;
    write_out(&first)?;

    let mut keys = Keyboard::open();
    let mut window_change = signal(SignalKind::window_change())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut filter = DetachFilter::new(detach_key);
    let mut detach_deadline: Option<Instant> = None;

    let outcome = 'session: loop {
        let double_press_window = async {
            match detach_deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = conn.next() => match msg {
                Some(Ok(ServerMsg::Output(bytes) | ServerMsg::Snapshot(bytes))) => write_out(&bytes)?,
                Some(Ok(ServerMsg::Exited { status })) => break Outcome::Ended(status),
                Some(Ok(ServerMsg::Error { message })) => break Outcome::Failed(message),
                Some(Ok(_)) => {}
                Some(Err(err)) => break Outcome::Failed(format!("bad frame from the server: {err}")),
                None => break Outcome::Failed("lost the connection to the server".into()),
            },
            Some(bytes) = keys.next() => {
                if replies::is_terminal_reply(&bytes) {
                    if !read_only {
                        conn.send(ClientMsg::TerminalReply(bytes)).await?;
                    }
                    continue;
                }
                for action in filter.feed(&bytes) {
                    match action {
                        KeyAction::Send(bytes) if !read_only => conn.send(ClientMsg::Input(bytes)).await?,
                        KeyAction::Send(_) => {}
                        KeyAction::Armed => {
                            detach_deadline = Some(Instant::now() + Duration::from_millis(DOUBLE_PRESS_WINDOW_MS));
                        }
                        KeyAction::Detach => break 'session Outcome::Detached,
                    }
                }
            },
            () = double_press_window => {
                detach_deadline = None;
                if filter.expire() {
                    break Outcome::Detached;
                }
            }
            _ = window_change.recv() => {
                if let Some(size) = terminal_size() {
                    conn.send(ClientMsg::Resize(size)).await?;
                }
            }
            _ = hangup.recv() => break Outcome::Hangup,
            _ = terminate.recv() => break Outcome::Hangup,
        }
    };

    if matches!(outcome, Outcome::Detached) {
        // Best effort: the server also notices the connection closing.
        let _ = conn.send(ClientMsg::Detach).await;
    }
    drop(conn);
    guard.restore();
    match outcome {
        Outcome::Detached => outln!("[detached from {name}]")?,
        Outcome::Ended(status) => outln!("[{name} {}]", ended_text(status))?,
        Outcome::Hangup => {}
        Outcome::Failed(message) => bail!("{message}"),
    }
    Ok(0)
}

fn ended_text(status: Status) -> String {
    match status {
        Status::Exited { code } => format!("exited with status {code}"),
        Status::Killed { signal } => match Signal::try_from(signal) {
            Ok(sig) => format!("killed by {}", sig.as_str()),
            Err(_) => format!("killed by signal {signal}"),
        },
        Status::Running | Status::Lost => "ended".to_owned(),
    }
}

/// Writes straight to the terminal's fd: stdout's line buffer would split each
/// frame into two writes (up to the last newline, then the rest).
fn write_out(mut bytes: &[u8]) -> Result<()> {
    let stdout = std::io::stdout();
    let _exclusive = stdout.lock();
    while !bytes.is_empty() {
        match nix::unistd::write(stdout.as_fd(), bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(err) => return Err(std::io::Error::from(err).into()),
        }
    }
    Ok(())
}
