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
use symp_protocol::{ClientMsg, ServerMsg, Size, Status};
use symp_server::{DetachKey, Paths};

use crate::commands::terminal_size;
use crate::connect::{connect, request, Conn};
use crate::output::outln;
use handover::Offer;
use keyboard::Keyboard;
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
    refuse_inside_itself(paths, &options.name).await?;
    // Before the terminal goes raw: a signal from then on ends in it restored.
    let mut signals = Signals::install()?;
    // Kept across a suspend: a reader thread blocked on the terminal cannot be
    // stopped, and a second one would lose the keys the first one takes.
    let mut keyboard = None;
    let outcome = loop {
        match attach_once(paths, &options, &mut signals, &mut keyboard).await? {
            // Asked again: a shell that went away meanwhile (its terminal
            // closed) would leave us stopped for good.
            Outcome::Suspended if !signals::job_control() => break Outcome::Hangup,
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

/// Refuses to show a session inside itself: its picture drawn into its own
/// terminal would come back as its output, again and again (tmux refuses
/// nesting the same way). Inside means this terminal is the session's pty:
/// its session leader is the session's program. `SYMP_SESSION` only says
/// where to look, so a stale or copied one refuses nothing.
async fn refuse_inside_itself(paths: &Paths, name: &str) -> Result<()> {
    if std::env::var_os("SYMP_SESSION").as_deref() != Some(name.as_ref()) {
        return Ok(());
    }
    let Ok(terminal_leader) = nix::sys::termios::tcgetsid(std::io::stdout()) else {
        return Ok(());
    };
    let ServerMsg::Sessions(sessions) = request(paths, ClientMsg::List { all: false }).await?
    else {
        bail!("unexpected reply to list");
    };
    let program = sessions.iter().find(|s| s.name == name).and_then(|s| s.pid);
    if program.is_some_and(|pid| i64::from(pid) == i64::from(terminal_leader.as_raw())) {
        bail!("cannot attach to session {name} from inside it");
    }
    Ok(())
}

/// An attach under way, before its loop.
enum Started {
    /// The server draws into the terminal.
    HandedOver(Conn),
    /// The server streams frames; the first one is drawn.
    Framed(Conn),
}

/// One attach, from the terminal going raw to it given back.
async fn attach_once(
    paths: &Paths,
    options: &AttachOptions,
    signals: &mut Signals,
    keyboard: &mut Option<Keyboard>,
) -> Result<Outcome> {
    let size = terminal_size().unwrap_or(Size { cols: 80, rows: 24 });
    // Raw mode before connecting: a client stopped on its way in (SIGTTOU, run
    // in the background) holds no connection the server gives up on meanwhile.
    let mut guard = RawModeGuard::enter()?;
    terminal::write_out(terminal::SAVE_TITLE.as_bytes())?;
    // Until the attach is under way, a signal ends it with the terminal as it
    // was: the server may be slow, stopped, or not answering at all.
    let start = start(paths, options, size);
    tokio::pin!(start);
    let started = loop {
        tokio::select! {
            started = &mut start => break started,
            // (A resize before then: the attach asked with the size of its start.)
            event = signals.next() => {
                if let Some(outcome) = ends_attach(&event) {
                    guard.undo_entry();
                    return Ok(outcome);
                }
            }
        }
    };
    let outcome = match started {
        Ok(Started::HandedOver(mut conn)) => handover::follow(&mut conn, signals).await,
        Ok(Started::Framed(mut conn)) => {
            let keys = keyboard.get_or_insert_with(Keyboard::open);
            framed::follow(&mut conn, options, signals, keys).await
        }
        Err(err) => {
            guard.undo_entry();
            return Err(err);
        }
    };
    guard.restore();
    outcome
}

/// Connects and asks for the attach: the terminal handed over where it can be,
/// else the framed stream, whose first picture is drawn.
async fn start(paths: &Paths, options: &AttachOptions, size: Size) -> Result<Started> {
    let mut conn = connect(paths).await?;
    let offer = match handover::open_terminal() {
        Some(fds) => handover::offer(&mut conn, options, size, fds).await?,
        None => Offer::NotMade,
    };
    match offer {
        Offer::Taken => return Ok(Started::HandedOver(conn)),
        // That connection is over: ask again, for the framed stream. A refusal
        // that was not about the terminal (an unknown session) comes back the
        // same way, before anything is drawn.
        Offer::Refused => conn = connect(paths).await?,
        Offer::NotMade => {}
    }
    framed::start(&mut conn, options, size).await?;
    Ok(Started::Framed(conn))
}

/// What a signal means for an attach in progress: `Some` ends it.
async fn on_signal(event: Event, conn: &mut Conn) -> Result<Option<Outcome>> {
    if let Event::Continued = event {
        // In front again after a stop we did not choose: the shell's modes
        // are on the terminal.
        terminal::raw_again()?;
    }
    if let Event::Resized | Event::Continued = event {
        // A resize, or a picture to draw whole again: the server redraws the
        // client at every size it is told, the same one too.
        if let Some(size) = terminal_size() {
            conn.send(ClientMsg::Resize(size)).await?;
        }
    }
    Ok(ends_attach(&event))
}

/// How a signal ends an attach, if it does: a stop, or a suspend that a shell
/// could continue (without one, a stop would be for good: the kernel ignores
/// SIGTSTP there too, and so do we).
fn ends_attach(event: &Event) -> Option<Outcome> {
    match event {
        Event::Resized | Event::Continued => None,
        Event::Stop => Some(Outcome::Hangup),
        Event::Suspend => signals::job_control().then_some(Outcome::Suspended),
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
