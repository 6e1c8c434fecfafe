//! One program in one pty: its output log, shadow screen, clients, status and the
//! operations the server performs on it. The tasks and threads that move its bytes are in `pump`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{bail, Result};
use bytes::Bytes;
use nix::sys::signal::Signal;
use portable_pty::MasterPty;
use symp_protocol::{SessionInfo, Size, SpawnRequest, Status};
use tokio::sync::{mpsc, watch};

use crate::clients::Clients;
use crate::events::{now_ms, EventBus, EventKind};
use crate::output_log::OutputLog;
use crate::packed_screen::PackedScreen;
use crate::reclaim::Reclaim;
use crate::reply_queue::ReplyQueue;
use crate::shadow::Shadow;
use crate::shadow_parser::ShadowParser;
use crate::sync::lock;
use crate::{procs, pty, pump};

/// Scrollback lines when the spawn request does not say.
pub const DEFAULT_SCROLLBACK: usize = 10_000;
/// Keystroke writes queued for the program before senders wait.
const INPUT_QUEUE: usize = 1024;

/// What a session was started as; fixed for its life.
#[derive(Debug, Clone)]
pub struct SessionMeta {
    pub name: String,
    pub command: Vec<String>,
    pub cwd: String,
    pub label: Option<String>,
    pub pid: u32,
    pub created_ms: u64,
}

pub struct Session {
    pub meta: SessionMeta,
    pub log: OutputLog,
    /// parking_lot's, for its fair unlock: see `shadow_parser::parse`.
    shadow: parking_lot::Mutex<Shadow>,
    /// Taken when the program ends, which stops the writer task.
    input: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    /// Counts the times the writer task found the input queue empty after a
    /// write: what was queued before has reached the program's pty.
    pub input_drained: watch::Sender<u64>,
    /// Dropped when the program ends, which hangs up anything left on the pty.
    master: Mutex<Option<Box<dyn MasterPty + Send>>>,
    status: watch::Sender<Status>,
    size: watch::Sender<Size>,
    clients: Mutex<Clients>,
    pub last_output_ms: AtomicU64,
    /// When the picture last changed (see `activity`).
    pub last_change_ms: AtomicU64,
    /// Kept by the activity monitor.
    pub idle: AtomicBool,
    last_attach_ms: AtomicU64,
    ended_ms: AtomicU64,
    pub bus: EventBus,
    /// The server's runtime, for the parser thread's answers that must wait.
    runtime: tokio::runtime::Handle,
    replies: ReplyQueue,
    /// Set by `rm`: its output no longer goes to a transcript. A lock, not a
    /// flag: the parser holds it while it hands a batch to the transcript, so no
    /// batch reaches the writer after `rm` has queued the deletion.
    removed: Mutex<bool>,
    /// The last redraw of a viewer that fell behind: its seq, size and bytes.
    /// Viewers fall behind together (a flood outruns them all), and the rest
    /// reuse it instead of each waiting on the I/O thread for the screen, which
    /// the parser holds for a batch at a time (milliseconds under `seq`).
    resync: Mutex<Option<(u64, Size, Bytes)>>,
    /// Told of output the log lets go.
    reclaim: Arc<Reclaim>,
    /// The shadow parser thread, which also packs idle screens.
    parser: ShadowParser,
    /// A turn of the parser's is queued to format a skimmed flood's history
    /// once the flood is over (`shadow_parser::settle_if_quiet`).
    pub(crate) settle_queued: AtomicBool,
}

impl Session {
    /// Starts the program and the tasks and threads that serve it.
    pub fn spawn(
        name: String,
        req: &SpawnRequest,
        bus: EventBus,
        parser: ShadowParser,
    ) -> Result<Arc<Session>> {
        // Before the program starts: nothing is left behind if this fails.
        parser.start()?;
        let process = pty::spawn(req, &name)?;
        let (input_tx, input_rx) = mpsc::channel(INPUT_QUEUE);
        let scrollback = req.scrollback.unwrap_or(DEFAULT_SCROLLBACK);
        let session = Arc::new(Session {
            meta: SessionMeta {
                name,
                command: req.command.clone(),
                cwd: req.cwd.clone(),
                label: req.label.clone(),
                pid: process.pid,
                created_ms: now_ms(),
            },
            log: OutputLog::new(),
            shadow: parking_lot::Mutex::new(Shadow::new(req.size, scrollback)),
            input: Mutex::new(Some(input_tx)),
            input_drained: watch::channel(0).0,
            master: Mutex::new(Some(process.master)),
            status: watch::channel(Status::Running).0,
            size: watch::channel(req.size).0,
            clients: Mutex::new(Clients::default()),
            last_output_ms: AtomicU64::new(0),
            last_change_ms: AtomicU64::new(now_ms()),
            idle: AtomicBool::new(false),
            last_attach_ms: AtomicU64::new(0),
            ended_ms: AtomicU64::new(0),
            bus,
            runtime: tokio::runtime::Handle::current(),
            replies: ReplyQueue::default(),
            removed: Mutex::new(false),
            resync: Mutex::new(None),
            reclaim: parser.reclaim(),
            parser: parser.clone(),
            settle_queued: AtomicBool::new(false),
        });
        pump::start(&session, process.io, input_rx, parser);
        session.bus.emit(
            &session.meta.name,
            EventKind::Spawned {
                pid: process.pid,
                command: req.command.clone(),
            },
        );
        Ok(session)
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn shadow(&self) -> parking_lot::MutexGuard<'_, Shadow> {
        self.shadow.lock()
    }

    /// A redraw for a viewer of `size` that fell out of the log: the last one made
    /// if the log still holds what follows it, else a new one. Its seq and bytes.
    pub fn resync(&self, size: Size) -> Option<(u64, Bytes)> {
        if let Some((seq, at, bytes)) = lock(&self.resync).clone() {
            // Still the pty's size (a resize since would make it a clipped view),
            // and still followed by what the log holds.
            if at == size && self.size() == size && seq >= self.log.tail() {
                return Some((seq, bytes));
            }
        }
        let mut shadow = self.shadow();
        if shadow.size() != size {
            return None;
        }
        let (seq, bytes) = shadow.redraw_at_seq(0);
        drop(shadow);
        let made = (seq, Bytes::from(bytes));
        *lock(&self.resync) = Some((made.0, size, made.1.clone()));
        Some(made)
    }

    /// Marks the session removed: nothing more of its output goes to its
    /// transcript, whose deletion the caller queues after this.
    pub fn mark_removed(&self) {
        *lock(&self.removed) = true;
    }

    /// Runs `write` with this session's parsed output unless it was removed.
    pub fn unless_removed(&self, write: impl FnOnce()) {
        let removed = lock(&self.removed);
        if !*removed {
            write();
        }
    }

    /// Formats the history of a flood the parser skimmed (`skim.rs`) on a
    /// blocking thread: parsing its last rows again takes up to tens of
    /// milliseconds, which would hold up every session on the I/O thread. For
    /// readers of the history; what the parser skims meanwhile they format
    /// themselves (a batch or two).
    pub async fn settle_history(self: &Arc<Self>) {
        if !self.shadow().is_skimming() {
            return;
        }
        let session = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let freed = session.settle_history_in_steps();
            session.reclaim.released(freed);
        })
        .await;
    }

    /// Formats a skimmed flood's history a step (one parse batch of output) at
    /// a time, letting go of the screen's lock between steps and handing it
    /// fairly to whoever waits: the I/O thread (a viewer's redraw, `list`, a
    /// capture) waits a step, never the whole. Returns the bytes let go.
    pub fn settle_history_in_steps(&self) -> usize {
        loop {
            let mut shadow = self.shadow();
            let step = shadow.settle_step(crate::shadow_parser::PARSE_BATCH);
            parking_lot::MutexGuard::unlock_fair(shadow);
            if let Some(freed) = step {
                return freed;
            }
        }
    }

    /// The shadow screen if nobody (the parser, mid-batch) holds it.
    pub fn try_shadow(&self) -> Option<parking_lot::MutexGuard<'_, Shadow>> {
        self.shadow.try_lock()
    }

    pub fn clients(&self) -> MutexGuard<'_, Clients> {
        lock(&self.clients)
    }

    pub fn status(&self) -> Status {
        *self.status.borrow()
    }

    pub fn watch_status(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    pub fn size(&self) -> Size {
        *self.size.borrow()
    }

    pub fn watch_size(&self) -> watch::Receiver<Size> {
        self.size.subscribe()
    }

    pub fn note_attach(&self) {
        self.last_attach_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Queues bytes for the program. Fails once it has ended.
    pub async fn write_input(&self, bytes: Vec<u8>) -> Result<()> {
        let sender = lock(&self.input).clone();
        match sender {
            Some(tx) if tx.send(bytes).await.is_ok() => Ok(()),
            _ => bail!("session {} has ended", self.meta.name),
        }
    }

    /// Writes the program's input queue (bounded in writes); `None` once the
    /// program has ended.
    pub fn input_sender(&self) -> Option<mpsc::Sender<Vec<u8>>> {
        lock(&self.input).clone()
    }

    /// For the parser thread: queues a query's answer without waiting. That thread
    /// serves every session, so it never waits on one: when the input queue is
    /// full (a big paste into a busy program), the answer waits in `replies`,
    /// behind what was queued before it.
    pub fn queue_reply(&self, bytes: Vec<u8>) {
        if let Some(tx) = lock(&self.input).as_ref() {
            self.replies.push(tx, &self.runtime, bytes);
        }
    }

    /// Gives the pty, and the shadow screen, a new size.
    pub fn resize(&self, size: Size) {
        // An ended session keeps the screen it ended with, whoever looks at it.
        if size == self.size() || size.cols == 0 || size.rows == 0 || !self.status().is_running() {
            return;
        }
        if let Some(master) = lock(&self.master).as_ref() {
            if let Err(err) = master.resize(pty::pty_size(size)) {
                tracing::warn!(session = %self.meta.name, "resize failed: {err}");
                return;
            }
        }
        self.shadow().resize(size);
        self.size.send_replace(size);
        self.bus.emit(
            &self.meta.name,
            EventKind::Resized {
                cols: size.cols,
                rows: size.rows,
            },
        );
    }

    /// Ends the program: the given signal only, or HUP, then TERM, then KILL,
    /// each after a grace period, to every process in its session.
    pub async fn terminate(&self, signal: Option<Signal>) {
        let steps: &[(Signal, u64)] = match signal {
            Some(sig) => &[(sig, 0)],
            None => &[
                (Signal::SIGHUP, 1000),
                (Signal::SIGTERM, 2000),
                (Signal::SIGKILL, 2000),
            ],
        };
        let mut status = self.watch_status();
        for &(sig, grace_ms) in steps {
            if !self.status().is_running() {
                return;
            }
            procs::signal_session(self.meta.pid, sig);
            let ended = status.wait_for(|s| !s.is_running());
            if tokio::time::timeout(Duration::from_millis(grace_ms), ended)
                .await
                .is_ok()
            {
                return;
            }
        }
    }

    /// Called once by the waiter task when the program is reaped and drained.
    pub(crate) fn finish(&self, status: Status) {
        self.ended_ms.store(now_ms(), Ordering::Relaxed);
        lock(&self.input).take();
        lock(&self.master).take();
        self.status.send_replace(status);
        let (code, signal) = match status {
            Status::Exited { code } => (Some(code), None),
            Status::Killed { signal } => (None, Some(signal)),
            _ => (None, None),
        };
        self.bus.emit(
            &self.meta.name,
            EventKind::Exited {
                status: status_word(status).to_owned(),
                code,
                signal,
            },
        );
    }

    /// An idle or ended session that nobody watches lets go of the parsed output
    /// its log keeps for slow viewers (up to 512 KiB, for a session that printed
    /// that much), and of the last redraw they shared. Not while a viewer is
    /// attached: one still catching up (a phone on a slow link) would be cut to a
    /// redraw, and its terminal's scrollback would miss those lines. Called when
    /// a session turns idle, when it ends and when a viewer leaves.
    pub fn release_unwatched_output(&self) {
        let resting = self.idle.load(Ordering::Relaxed) || !self.status().is_running();
        if !resting || self.clients().counts() != (0, 0) {
            return;
        }
        let kept_redraw = lock(&self.resync)
            .take()
            .map_or(0, |(_, _, bytes)| bytes.len());
        self.reclaim
            .released(self.log.release_parsed() + kept_redraw);
    }

    /// Asks the parser thread to pack this session's screen: it turned idle.
    pub fn request_pack(self: &Arc<Self>) {
        self.parser.pack(self.clone());
    }

    /// Packs the shadow screen (see `packed_screen`), counting the memory freed
    /// towards the next trim. The probing (a millisecond or two) works on a copy
    /// with the screen's lock released: the I/O thread never waits for it.
    pub fn pack_screen(&self) {
        let Some(job) = self.shadow().screen_to_pack() else {
            return;
        };
        let freed = match PackedScreen::pack(&job.screen) {
            Some(packed) => {
                let bytes = packed.len();
                let freed = self.shadow().install_packed(&job, packed);
                if freed > 0 {
                    tracing::debug!(session = %self.meta.name, bytes, "screen packed");
                }
                freed
            }
            None => {
                tracing::debug!(session = %self.meta.name, "screen not packed: it would not rebuild exactly");
                0
            }
        };
        // Probing held about four copies of the screen at a time.
        self.reclaim.released(freed + 4 * job.cell_bytes());
    }

    pub fn info(&self) -> SessionInfo {
        let (clients, read_only_clients) = self.clients().counts();
        let last_output = self.last_output_ms.load(Ordering::Relaxed);
        let last_attach = self.last_attach_ms.load(Ordering::Relaxed);
        let ended = self.ended_ms.load(Ordering::Relaxed);
        SessionInfo {
            name: self.meta.name.clone(),
            status: self.status(),
            pid: Some(self.meta.pid),
            command: self.meta.command.clone(),
            cwd: self.meta.cwd.clone(),
            label: self.meta.label.clone(),
            clients,
            read_only_clients,
            created_ms: self.meta.created_ms,
            last_output_ms: (last_output != 0).then_some(last_output),
            last_attach_ms: (last_attach != 0).then_some(last_attach),
            ended_ms: (ended != 0).then_some(ended),
            size: self.size(),
            title: self.shadow().state().title.clone(),
            idle: self.idle.load(Ordering::Relaxed),
        }
    }
}

/// Resolves once the program has ended.
pub async fn ended(status: &mut watch::Receiver<Status>) {
    // The guard `wait_for` returns is not Send; drop it before anyone awaits again.
    let _ = status.wait_for(|s| !s.is_running()).await.map(|_| ());
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Running => "running",
        Status::Exited { .. } => "exited",
        Status::Killed { .. } => "killed",
        Status::Lost => "lost",
    }
}

/// A session of `command` at 80x24 for unit tests, with its transcripts in a
/// temporary directory (kept alive by the caller). Inside a tokio runtime.
#[cfg(test)]
pub(crate) fn spawn_for_test(command: &[&str]) -> (Arc<Session>, tempfile::TempDir) {
    use crate::transcript::Transcripts;

    let dir = tempfile::tempdir().expect("temp dir");
    let parser = ShadowParser::new(
        Transcripts::new(dir.path().into()),
        Arc::new(Reclaim::default()),
    );
    let req = SpawnRequest {
        name: None,
        command: command.iter().map(|s| s.to_string()).collect(),
        cwd: "/".into(),
        env: vec![],
        size: Size { cols: 80, rows: 24 },
        scrollback: None,
        label: None,
    };
    let session = Session::spawn("t".into(), &req, EventBus::default(), parser).expect("spawn");
    (session, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn viewers_that_fall_behind_together_share_one_redraw() {
        let (session, _transcripts) = spawn_for_test(&["sleep", "30"]);
        let size = Size { cols: 80, rows: 24 };
        let (seq, first) = session.resync(size).expect("a redraw");
        let (again, second) = session.resync(size).expect("a redraw");
        assert_eq!(
            (again, second.as_ptr()),
            (seq, first.as_ptr()),
            "made twice"
        );

        // Once the log no longer holds what follows it, a new one is made.
        let _ = session.log.append(Bytes::from_static(b"more"), &[]);
        {
            let mut shadow = session.shadow();
            shadow.process(b"more");
            shadow.seq = session.log.head();
        }
        session.log.mark_parsed(session.log.head(), 0);
        session.log.release_parsed();
        let (newer, third) = session.resync(size).expect("a redraw");
        assert_eq!(newer, session.log.head());
        assert_ne!(third.as_ptr(), first.as_ptr());

        // A viewer of another size is drawn clipped, not from this.
        assert!(session
            .resync(Size {
                cols: 100,
                rows: 30
            })
            .is_none());
        session.terminate(Some(Signal::SIGKILL)).await;
    }
}
