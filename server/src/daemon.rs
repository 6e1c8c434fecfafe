//! The server process: one per user (an exclusive lock decides races), a socket
//! `0600` in a `0700` directory, an accept loop, and an orderly shutdown.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};
use tokio::net::UnixListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use crate::config::Config;
use crate::events::{EventBus, EventKind};
use crate::paths::Paths;
use crate::reclaim::Reclaim;
use crate::registry::Registry;
use crate::transcript::Transcripts;

pub struct Server {
    pub registry: Registry,
    pub paths: Paths,
    stop: watch::Sender<bool>,
}

impl Server {
    /// Ends every running program (HUP, TERM, KILL) and records the result.
    pub async fn shutdown(&self) {
        // Stop taking new connections first: a command arriving now would reach a
        // server about to exit (`server stop`'s own check that we are gone would be
        // reset instead of refused), and a spawn now would start a program nobody ends.
        let _ = fs::remove_file(self.paths.socket());
        let sessions = self.registry.live_sessions();
        let endings = sessions.iter().map(|s| s.terminate(None));
        futures_util::future::join_all(endings).await;
        // Give the waiter tasks a moment to record each exit status.
        for session in &sessions {
            let mut status = session.watch_status();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), status.wait_for(|s| !s.is_running()))
                    .await;
        }
        self.registry.persist();
    }

    /// Stops accepting; the process exits once the accept loop returns.
    pub fn exit(&self) {
        self.stop.send_replace(true);
    }
}

/// Why `run` returned without serving.
#[derive(Debug, thiserror::Error)]
#[error("another symp server is already running for this directory")]
pub struct AlreadyRunning;

/// Runs the server in this process until it is told to stop.
pub fn run(paths: Paths) -> Result<()> {
    // While this process has one thread: it changes the environment.
    crate::login_env::give_the_server_a_shell();
    paths.create_dirs()?;
    let lock_path = paths.lock_file();
    let lock_file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    // Held for the life of the process: whoever holds it owns the socket.
    let _lock = match Flock::lock(lock_file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => lock,
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => return Err(AlreadyRunning.into()),
        Err((_, err)) => return Err(err).context("cannot lock the server lock file"),
    };
    init_logging(&paths)?;
    // One thread runs every connection and pty task: the work there is moving bytes,
    // and a keystroke, its echo and the frames that carry them then never wait for
    // another thread to wake. Parsing, the heavy part, has threads of its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(paths));
    // Parser threads (and a fallback reaper on the blocking pool) may still be
    // blocked; the process exit ends them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

/// `SYMP_LOG`: a level, or `target=level` directives (`symp_server=debug,warn`).
/// Empty directives are dropped (an empty one would mean "everything at trace");
/// anything unreadable keeps the default, info (`Err` carries it, to be logged).
fn log_filter(spec: Option<&str>) -> Result<Targets, Targets> {
    let default = || Targets::new().with_default(tracing::Level::INFO);
    let Some(spec) = spec else {
        return Ok(default());
    };
    let directives: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if directives.is_empty() {
        return Ok(default());
    }
    // A bare word must be a level: a typo (`debgu`) would otherwise read as a
    // target name and silence every other log line.
    let bare_ok = directives
        .iter()
        .filter(|d| !d.contains('='))
        .all(|d| d.parse::<tracing::level_filters::LevelFilter>().is_ok());
    match directives.join(",").parse::<Targets>() {
        Ok(targets) if bare_ok => Ok(targets),
        _ => Err(default()),
    }
}

fn init_logging(paths: &Paths) -> Result<()> {
    let file = File::options()
        .create(true)
        .append(true)
        .open(paths.log_file())
        .with_context(|| format!("cannot open {}", paths.log_file().display()))?;
    let spec = std::env::var("SYMP_LOG").ok();
    let (filter, unreadable) = match log_filter(spec.as_deref()) {
        Ok(filter) => (filter, false),
        Err(default) => (default, true),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Mutex::new(file));
    // A second init (tests running servers in-process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
    if unreadable {
        tracing::warn!(SYMP_LOG = ?spec, "not a level or a target=level list; logging at info");
    }
    Ok(())
}

async fn serve(paths: Paths) -> Result<()> {
    let config = Config::load(&paths)?;
    let socket = paths.socket();
    // We hold the lock, so a socket file here is a dead server's leftover.
    let _ = fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket)
        .with_context(|| format!("cannot listen on {}", socket.display()))?;
    fs::set_permissions(&socket, fs::Permissions::from_mode(0o600))?;
    let bus = EventBus::default();
    let transcripts = Transcripts::new(paths.transcripts_dir());
    let reclaim = Arc::new(Reclaim::default());
    tokio::spawn(reclaim.clone().run());
    let registry = Registry::load(paths.registry(), transcripts, bus.clone(), config, reclaim);
    let (stop, mut stopped) = watch::channel(false);
    let server = Arc::new(Server {
        registry,
        paths,
        stop,
    });
    tracing::info!(pid = std::process::id(), socket = %socket.display(), "server started");
    tokio::spawn(persist_on_change(server.clone()));

    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    // A hangup of the terminal that started us must not stop the agents.
    let mut hangup = signal(SignalKind::hangup())?;
    let next_id = AtomicU64::new(0);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(crate::connection::serve(stream, server.clone(), id));
                }
                Err(err) => tracing::warn!("accept failed: {err}"),
            },
            _ = stopped.wait_for(|s| *s) => break,
            _ = terminate.recv() => { server.shutdown().await; break }
            _ = interrupt.recv() => { server.shutdown().await; break }
            _ = hangup.recv() => tracing::info!("ignored SIGHUP"),
        }
    }
    let _ = fs::remove_file(&socket);
    tracing::info!("server stopped");
    Ok(())
}

/// Writes the registry when a program ends. Spawn and rm write it themselves,
/// before they answer; an exit happens in the waiter task with nobody waiting.
async fn persist_on_change(server: Arc<Server>) {
    let mut events = server.registry.bus.subscribe();
    loop {
        match events.recv().await {
            Ok(event) if !matches!(event.kind, EventKind::Exited { .. }) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            // An exit, or missed events that may have held one.
            _ => {}
        }
        let server = server.clone();
        let _ = tokio::task::spawn_blocking(move || server.registry.persist()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn symp_log_takes_levels_and_target_directives_and_refuses_typos() {
        let debug = log_filter(Some("debug")).expect("a level");
        assert!(debug.would_enable("symp_server::pump", &Level::DEBUG));
        let scoped = log_filter(Some(" symp_server=debug , warn ")).expect("directives");
        assert!(scoped.would_enable("symp_server::pump", &Level::DEBUG));
        assert!(!scoped.would_enable("tokio", &Level::INFO));
        // Empty means the default, not "everything at trace".
        let empty = log_filter(Some(" , ")).expect("the default");
        assert!(!empty.would_enable("symp_server", &Level::TRACE));
        assert!(empty.would_enable("symp_server", &Level::INFO));
        assert!(log_filter(Some("debgu")).is_err(), "a typo is not a target");
    }
}
