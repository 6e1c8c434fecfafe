//! `symp attach`: show a session in this terminal until the detach key, the
//! program's end, or the terminal going away; then give the terminal back as it
//! was. Preferably by handing the terminal to the server (`handover`), else by
//! drawing the server's framed stream here (`framed`).

mod framed;
mod handover;
mod keyboard;
mod signals;
mod terminal;

use std::io::IsTerminal;

use anyhow::{bail, Result};
use futures_util::SinkExt;
use nix::sys::signal::Signal;
use symp_protocol::{ClientMsg, Size, Status};
use symp_server::{DetachKey, Paths};

use crate::commands::terminal_size;
use crate::connect::{connect, Conn};
use crate::output::outln;
use handover::Offer;
use signals::{Event, Signals};
use terminal::RawModeGuard;

pub struct AttachOptions {
    name: String,
    read_only: bool,
    /// As given or configured (checked here); `None` is the default key.
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

/// Why an attach ended.
enum Outcome {
    Detached,
    Ended(Status),
    /// Our terminal hung up or we were told to stop: nobody to tell.
    Hangup,
    /// Stopped from elsewhere (SIGTSTP): attach again once continued.
    Suspended,
    Failed(String),
}

pub async fn run(paths: &Paths, options: AttachOptions) -> Result<u8> {
    // Before the terminal goes raw: a signal from then on ends in it restored.
    let mut signals = Signals::install()?;
    let outcome = loop {
        match attach_once(paths, &options, &mut signals).await? {
            Outcome::Suspended => {
                // The terminal is the shell's again; stop as Ctrl-Z would have
                // stopped us, and show the session afresh when continued.
                nix::sys::signal::raise(Signal::SIGSTOP)?;
            }
            outcome => break outcome,
        }
    };
    let name = &options.name;
    match outcome {
        Outcome::Detached => outln!("[detached from {name}]")?,
        Outcome::Ended(status) => outln!("[{name} {}]", ended_text(status))?,
        Outcome::Hangup | Outcome::Suspended => {}
        Outcome::Failed(message) => bail!("{message}"),
    }
    Ok(0)
}

/// One attach, from the terminal going raw to it given back.
async fn attach_once(
    paths: &Paths,
    options: &AttachOptions,
    signals: &mut Signals,
) -> Result<Outcome> {
    let size = terminal_size().unwrap_or(Size { cols: 80, rows: 24 });
    let mut conn = connect(paths).await?;
    let mut guard = RawModeGuard::enter()?;
    terminal::write_out(terminal::SAVE_TITLE.as_bytes())?;
    let offer = match handover::open_terminal() {
        Some(fds) => handover::offer(&mut conn, options, size, fds).await,
        None => Ok(Offer::NotMade),
    };
    let outcome = match offer {
        Ok(Offer::Taken) => handover::follow(&mut conn, signals).await,
        Ok(refused_or_not_made) => {
            if matches!(refused_or_not_made, Offer::Refused) {
                // That connection is over: ask again, for the framed stream. A
                // refusal that was not about the terminal (an unknown session)
                // comes back the same way, before anything is drawn.
                conn = connect(paths).await?;
            }
            match framed::start(&mut conn, options, size).await {
                Ok(()) => framed::follow(&mut conn, options, signals).await,
                Err(err) => {
                    guard.undo_entry();
                    return Err(err);
                }
            }
        }
        Err(err) => {
            guard.undo_entry();
            return Err(err);
        }
    };
    drop(conn);
    guard.restore();
    outcome
}

/// What a signal means for an attach in progress: `Some` ends it.
async fn on_signal(event: Event, conn: &mut Conn) -> Result<Option<Outcome>> {
    match event {
        Event::Resized => {
            if let Some(size) = terminal_size() {
                conn.send(ClientMsg::Resize(size)).await?;
            }
            Ok(None)
        }
        Event::Stop => Ok(Some(Outcome::Hangup)),
        Event::Suspend => Ok(Some(Outcome::Suspended)),
    }
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
