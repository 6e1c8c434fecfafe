//! One attached client, server side: a snapshot, then the output stream (raw bytes
//! when its terminal is the pty's size, a clipped rendering otherwise), and its
//! keys, replies and resizes going the other way.
//!
//! Two kinds of viewer. The `symp` client hands over its terminal (`Terminal`):
//! the server draws into it and reads its keys itself, as tmux does, so a key and
//! its echo never pass through the client process. A viewer without a terminal to
//! hand over (an editor's pane, a test) gets the same stream in frames instead,
//! and sends its keys as `Input`.

pub mod detach_key;
mod holder;
pub mod replies;
mod terminal;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use symp_protocol::{ClientMsg, ProtocolError, ServerMsg, Size};
use tokio::sync::watch;

use crate::clients::ClientId;
use crate::events::EventKind;
use crate::output_log::ReadOutcome;
use crate::pty_fd;
use crate::render::ClippedView;
use crate::session::Session;
pub use terminal::Terminal;

/// History lines pushed into an attaching terminal's own scrollback.
pub const REPLAY_LINES: usize = 1000;
/// Largest output frame; bigger reads are split.
const MAX_OUTPUT_FRAME: usize = 64 * 1024;
/// A clipped view redraws at most this often.
const CLIPPED_FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// Output arriving within this long of the last frame is part of a stream, worth
/// gathering into bigger frames; after a quiet spell (an echo, a prompt) it goes
/// out at once.
const STREAM_GAP: Duration = Duration::from_millis(1);
/// During a burst of output, a client gets a frame at most this often:
/// enough to watch it go, and the rest of the burst is skipped by a redraw
/// instead of streamed (the reader takes turns with the other tasks, so without
/// this a viewer would keep up with, and paint, every byte of a `cat` of a log).
const BURST_FRAME_INTERVAL: Duration = Duration::from_millis(40);

/// How a viewer's attach ended.
enum End {
    /// The program ended; the viewer was told (`Exited`).
    ProgramEnded,
    /// The detach key, or the client asked.
    Detached,
    /// The client or its terminal went away.
    Gone,
}

pub async fn run<S>(
    conn: S,
    session: Arc<Session>,
    read_only: bool,
    size: Size,
    terminal: Option<Terminal>,
) -> Result<()>
where
    S: Sink<ServerMsg, Error = ProtocolError>
        + Stream<Item = Result<ClientMsg, ProtocolError>>
        + Unpin,
{
    let (mut sink, mut stream) = conn.split();
    if terminal.is_some() {
        // Before the first byte goes to the terminal: the client now leaves it to us.
        sink.send(ServerMsg::Attached).await?;
    }
    // The attach replays history: format a skimmed flood's first, off this thread.
    session.settle_history().await;
    let (id, lead_size) = session.clients().join(read_only, size);
    session.note_attach();
    session.bus.emit(
        session.name(),
        EventKind::Attached {
            client: id,
            read_only,
        },
    );
    if let Some(size) = lead_size {
        resize(&session, size).await;
    }
    let (client_size_tx, client_size_rx) = watch::channel(size);
    let screen = terminal.as_ref();
    let keys = async {
        match &terminal {
            Some(terminal) => terminal.read_keys(&session, id, read_only).await,
            None => std::future::pending::<End>().await,
        }
    };
    let result = tokio::select! {
        r = stream_output(&session, &mut sink, screen, client_size_rx) => r.map(|()| End::ProgramEnded),
        r = take_input(&session, &mut stream, id, read_only, client_size_tx) => r,
        end = keys => Ok(end),
    };
    // Nothing is written to the terminal after this: the client may take it back.
    let handed_over = terminal.is_some();
    drop(terminal);
    let lead_size = session.clients().leave(id);
    if let Some(size) = lead_size {
        resize(&session, size).await;
    }
    session.release_unwatched_output();
    session
        .bus
        .emit(session.name(), EventKind::Detached { client: id });
    if handed_over && matches!(result, Ok(End::Detached | End::Gone)) {
        // The client restores its terminal once told; it may be gone already.
        // (An error goes to it as `Error`; a program's end went as `Exited`.)
        let _ = sink.send(ServerMsg::Detached).await;
    }
    result.map(|_| ())
}

/// Keys from the viewer: it becomes the input owner, and they go to the program.
async fn type_keys(session: &Arc<Session>, id: ClientId, bytes: Vec<u8>) {
    took_input(session, id).await;
    // Typing into an ended session does nothing; the output side says it ended.
    let _ = session.write_input(bytes).await;
}

/// The viewer typed: it becomes the input owner, and the pty takes its size.
async fn took_input(session: &Arc<Session>, id: ClientId) {
    let lead_size = session.clients().touch(id);
    if let Some(size) = lead_size {
        resize(session, size).await;
    }
}

/// A reply from the viewer's terminal to a query the program made: only the input
/// owner's terminal answers.
async fn answer_query(session: &Session, id: ClientId, bytes: Vec<u8>) {
    let leads = session.clients().is_leader(id);
    if leads {
        let _ = session.write_input(bytes).await;
    }
}

/// How this client is being fed.
enum Mode {
    /// Its size matches the pty: the program's bytes, from this seq on.
    Raw { cursor: u64 },
    /// Another size: redrawn from the shadow screen.
    Clipped(ClippedView),
}

/// Draws the client from scratch and picks its mode for the current sizes.
fn redraw(session: &Session, client: Size, replay: usize) -> (Mode, Vec<u8>) {
    let mut shadow = session.shadow();
    if shadow.size() == client {
        let (cursor, bytes) = shadow.redraw_at_seq(replay);
        (Mode::Raw { cursor }, bytes)
    } else {
        let mut view = ClippedView::new(client);
        let mut bytes = Vec::new();
        if replay > 0 {
            let mut replayed = String::from("\x1b[?1049l");
            shadow.write_history_replay(&mut replayed, replay);
            bytes.extend_from_slice(replayed.as_bytes());
        }
        bytes.extend(view.full(&shadow));
        (Mode::Clipped(view), bytes)
    }
}

async fn stream_output<W>(
    session: &Session,
    sink: &mut W,
    screen: Option<&Terminal>,
    mut client_size: watch::Receiver<Size>,
) -> Result<()>
where
    W: Sink<ServerMsg, Error = ProtocolError> + Unpin,
{
    let mut head = session.log.subscribe();
    let mut parsed = session.log.subscribe_parsed();
    let mut pty_size = session.watch_size();
    let mut status = session.watch_status();
    let mut burst = session.log.subscribe_burst();
    // A clipped frame was skipped because the screen was busy.
    let mut clipped_retry = false;
    let (mut mode, snapshot) = redraw(session, *client_size.borrow_and_update(), REPLAY_LINES);
    let mut frames = Frames {
        sink,
        screen,
        last: Instant::now(),
        owes_redraw: false,
    };
    frames.send(ServerMsg::Snapshot(snapshot.into())).await?;
    loop {
        if let (true, Some(terminal)) = (frames.owes_redraw, frames.screen) {
            // The client let go of its terminal (stopped, its shell in front)
            // and what was not drawn meanwhile is lost: draw it whole once the
            // client has it back.
            terminal.until_held().await;
            frames.owes_redraw = false;
            let (new_mode, bytes) = redraw(session, *client_size.borrow(), 0);
            mode = new_mode;
            frames.send(ServerMsg::Snapshot(bytes.into())).await?;
            continue;
        }
        // During a burst of output, one frame per interval; never held
        // once the program has ended: the last of its output goes out.
        let hold_until = frames.last + BURST_FRAME_INTERVAL;
        let held = *burst.borrow_and_update()
            && Instant::now() < hold_until
            && status.borrow().is_running();
        match &mut mode {
            Mode::Raw { .. } if held => {}
            Mode::Raw { cursor } => match session.log.read_at(*cursor, MAX_OUTPUT_FRAME) {
                ReadOutcome::Data(bytes) => {
                    *cursor += bytes.len() as u64;
                    frames.send(ServerMsg::Output(bytes)).await?;
                    continue;
                }
                ReadOutcome::Behind => {
                    // Fell out of the ring while its socket was full: start over from
                    // the screen, with the redraw another viewer just got if it fits.
                    let size = *client_size.borrow();
                    let (new_mode, bytes) = match session.resync(size) {
                        Some((seq, bytes)) => (Mode::Raw { cursor: seq }, bytes),
                        None => {
                            let (mode, bytes) = redraw(session, size, 0);
                            (mode, bytes.into())
                        }
                    };
                    mode = new_mode;
                    frames.send(ServerMsg::Snapshot(bytes)).await?;
                    continue;
                }
                ReadOutcome::UpToDate | ReadOutcome::Closed => {}
            },
            Mode::Clipped(view) => {
                // Not while someone else (the parser, mid-batch) holds the screen,
                // which could keep the I/O thread waiting for milliseconds: look
                // again a frame later.
                let update = session.try_shadow().map(|shadow| view.update(&shadow));
                clipped_retry = update.is_none();
                if let Some(Some(bytes)) = update {
                    frames.send(ServerMsg::Output(bytes.into())).await?;
                }
            }
        }
        // The waiter ends a session only after its last output is in the log and
        // the shadow, so a caught-up client has shown everything by now.
        if !status.borrow_and_update().is_running() {
            frames
                .send(ServerMsg::Exited {
                    status: session.status(),
                })
                .await?;
            return Ok(());
        }
        let raw = matches!(mode, Mode::Raw { .. });
        let clipped = !raw;
        tokio::select! {
            changed = head.changed(), if raw && !held => {
                if changed.is_err() { bail!("session output closed"); }
                // Within a stream, let the reader task append whatever else is ready
                // first, so it goes out in few large frames.
                if frames.last.elapsed() < STREAM_GAP {
                    tokio::task::yield_now().await;
                }
            }
            // A clipped view is drawn from the shadow screen, so it follows the parser.
            changed = parsed.changed(), if clipped && !clipped_retry => {
                if changed.is_err() { bail!("session output closed"); }
                // Coalesce a burst into one frame.
                tokio::time::sleep(CLIPPED_FRAME_INTERVAL).await;
            }
            () = tokio::time::sleep(CLIPPED_FRAME_INTERVAL), if clipped && clipped_retry => {}
            _ = pty_size.changed() => {
                let (new_mode, bytes) = redraw(session, *client_size.borrow(), 0);
                mode = new_mode;
                frames.send(ServerMsg::Snapshot(bytes.into())).await?;
            }
            changed = client_size.changed() => {
                if changed.is_err() { return Ok(()); }
                let (new_mode, bytes) = redraw(session, *client_size.borrow(), 0);
                mode = new_mode;
                frames.send(ServerMsg::Snapshot(bytes.into())).await?;
            }
            _ = status.changed() => {}
            // The burst ended (the rest goes out at once) or this frame's time came.
            _ = burst.changed(), if held => {}
            _ = tokio::time::sleep_until(hold_until.into()), if held => {}
        }
    }
}

/// The client's side of the connection, remembering when it was last sent a frame.
struct Frames<'a, W> {
    sink: &'a mut W,
    /// The client's terminal, where the picture goes when the client handed it over.
    screen: Option<&'a Terminal>,
    last: Instant,
    /// A picture was not drawn: the client did not hold its terminal.
    owes_redraw: bool,
}

impl<W> Frames<'_, W>
where
    W: Sink<ServerMsg, Error = ProtocolError> + Unpin,
{
    async fn send(&mut self, msg: ServerMsg) -> Result<()> {
        match (self.screen, msg) {
            (Some(screen), ServerMsg::Output(_) | ServerMsg::Snapshot(_)) if !screen.held() => {
                self.owes_redraw = true;
            }
            (Some(screen), ServerMsg::Output(bytes) | ServerMsg::Snapshot(bytes)) => {
                pty_fd::write_all(screen.output(), &bytes).await?
            }
            (_, msg) => self.sink.send(msg).await?,
        }
        self.last = Instant::now();
        Ok(())
    }
}

async fn take_input<R>(
    session: &Arc<Session>,
    stream: &mut R,
    id: ClientId,
    read_only: bool,
    client_size: watch::Sender<Size>,
) -> Result<End>
where
    R: Stream<Item = Result<ClientMsg, ProtocolError>> + Unpin,
{
    while let Some(msg) = stream.next().await {
        match msg? {
            ClientMsg::Input(bytes) if !read_only => type_keys(session, id, bytes).await,
            ClientMsg::TerminalReply(bytes) if !read_only => answer_query(session, id, bytes).await,
            ClientMsg::Input(_) | ClientMsg::TerminalReply(_) => {}
            ClientMsg::Resize(size) if size.cols > 0 && size.rows > 0 => {
                client_size.send_replace(size);
                let lead_size = session.clients().resize(id, size);
                if let Some(size) = lead_size {
                    resize(session, size).await;
                }
            }
            ClientMsg::Detach => return Ok(End::Detached),
            other => bail!("unexpected message during attach: {other:?}"),
        }
    }
    Ok(End::Gone)
}

/// Gives the session a new size. A resize formats a skimmed flood's history
/// first (rows it pushes off go after those): here on a blocking thread, so the
/// I/O thread does not do it under the screen's lock.
async fn resize(session: &Arc<Session>, size: Size) {
    session.settle_history().await;
    session.resize(size);
}
