//! `symp attach`: hand this terminal to the server, which draws the session into
//! it and reads its keys, until the detach key, the program's end, or the
//! terminal going away; then take the terminal back as it was.

mod terminal;

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use nix::sys::signal::Signal;
use symp_protocol::{ClientMsg, ServerMsg, Size, Status};
use symp_server::{DetachKey, Paths};
use tokio::signal::unix::{signal, SignalKind};

use crate::commands::terminal_size;
use crate::connect::{connect, recv, Conn};
use crate::output::outln;
use terminal::RawModeGuard;

/// How long a client that was told to stop waits for the server to stop drawing
/// into its terminal before it restores the terminal anyway.
const STOP_DRAWING_TIMEOUT: Duration = Duration::from_secs(1);

pub struct AttachOptions {
    name: String,
    read_only: bool,
    /// As given or configured; checked here, recognised by the server.
    detach_key: Option<String>,
}

impl AttachOptions {
    pub fn new(
        paths: &Paths,
        name: String,
        read_only: bool,
        detach_key: Option<&str>,
    ) -> Result<Self> {
        let configured = symp_server::config::Config::load(paths)?.detach_key;
        let detach_key = detach_key.or(configured.as_deref()).map(str::to_owned);
        if let Some(text) = &detach_key {
            DetachKey::parse(text)?;
        }
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
    // Our own opens of the terminal, not stdin and stdout themselves: the server
    // makes them non-blocking, which must not reach the shell's file descriptions.
    let keys = terminal::open_again(std::io::stdin().as_fd())?;
    let screen = terminal::open_again(std::io::stdout().as_fd())?;
    let mut guard = RawModeGuard::enter()?;
    terminal::write_out(terminal::SAVE_TITLE.as_bytes())?;
    let request = symp_protocol::frame(&ClientMsg::AttachTerminal {
        name: name.clone(),
        read_only,
        size,
        detach_key,
    })?;
    conn.get_ref()
        .send_with_fds(&request, &[keys.as_fd(), screen.as_fd()])
        .context("cannot hand the terminal to the server")?;
    drop((keys, screen));
    // Errors (unknown session, ...) arrive before anything is drawn.
    match recv(&mut conn).await {
        Ok(ServerMsg::Attached) => {}
        Ok(other) => {
            guard.undo_entry();
            bail!("unexpected reply to attach: {other:?}")
        }
        Err(err) => {
            guard.undo_entry();
            return Err(err);
        }
    }

    let mut window_change = signal(SignalKind::window_change())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let outcome = loop {
        tokio::select! {
            msg = conn.next() => match msg {
                Some(Ok(ServerMsg::Detached)) => break Outcome::Detached,
                Some(Ok(ServerMsg::Exited { status })) => break Outcome::Ended(status),
                Some(Ok(ServerMsg::Error { message })) => break Outcome::Failed(message),
                Some(Ok(_)) => {}
                Some(Err(err)) => break Outcome::Failed(format!("bad frame from the server: {err}")),
                None => break Outcome::Failed("lost the connection to the server".into()),
            },
            _ = window_change.recv() => {
                if let Some(size) = terminal_size() {
                    conn.send(ClientMsg::Resize(size)).await?;
                }
            }
            _ = hangup.recv() => break Outcome::Hangup,
            _ = terminate.recv() => break Outcome::Hangup,
        }
    };
    if matches!(outcome, Outcome::Hangup) {
        stop_drawing(&mut conn).await;
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

/// Asks the server to stop drawing into our terminal and waits until it has (or
/// the connection ends), so nothing it draws lands after the terminal is restored.
async fn stop_drawing(conn: &mut Conn) {
    let stopped = async {
        conn.send(ClientMsg::Detach).await.ok()?;
        loop {
            match conn.next().await? {
                Ok(ServerMsg::Detached | ServerMsg::Exited { .. } | ServerMsg::Error { .. })
                | Err(_) => return Some(()),
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(STOP_DRAWING_TIMEOUT, stopped).await;
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
