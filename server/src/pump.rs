//! What moves a session's bytes: the pty reader task (the hot path: output into the
//! log, queries cut out) and the task that wakes the shadow parser after it, the
//! pty writer task (keys in), and the waiter task (reaps the program through a
//! pidfd, ends the session). The parser itself is `shadow_parser`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use nix::sys::signal::Signal;
use tokio::sync::{mpsc, Notify};

use crate::events::now_ms;
use crate::procs;
use crate::pty_fd::{PtyFd, SHORT_READ};
use crate::queries::QueryScanner;
use crate::reaper;
use crate::session::Session;
use crate::shadow_parser::ShadowParser;

/// How many short reads (`SHORT_READ`: each took all the pty had) in a row make a
/// stream of tiny writes; such reads gather (`COALESCE_PAUSE`), and they do not
/// keep a burst going.
const COALESCE_STREAK: u32 = 4;
/// How long such a stream gathers before the next read (the pty buffers 64 KiB).
const COALESCE_PAUSE: Duration = Duration::from_millis(1);
/// Bytes a reader takes before it lets the other tasks run (other sessions'
/// echoes among them). A pty read returns at most 4,095 bytes (the line
/// discipline's buffer; strace), so a flooding reader takes turns every other read.
const TURN_BYTES: usize = 4 * 1024;
/// Bytes read without finding the pty empty that start a burst.
const BURST_BYTES: usize = 64 * 1024;
/// A burst ends once the pty has had nothing but tiny reads for this long.
const BURST_QUIET: Duration = Duration::from_millis(5);
/// Chunks are carved out of allocations this big, so a chunk costs no malloc.
const ARENA_SIZE: usize = 64 * 1024;

pub fn start(
    session: &Arc<Session>,
    pty: PtyFd,
    input: mpsc::Receiver<Vec<u8>>,
    parser: ShadowParser,
) {
    tokio::spawn(wait_for_exit(session.clone()));
    let pty = Arc::new(pty);
    let parser_nudge = Arc::new(Notify::new());
    let nudger = tokio::spawn(wake_parser_after_viewers(
        session.clone(),
        parser.clone(),
        parser_nudge.clone(),
    ));
    let (s, reader_pty) = (session.clone(), pty.clone());
    tokio::spawn(async move {
        // However the reader ends, the nudger goes with it (closing the log says
        // whether the parser still needs a turn).
        let _nudger = AbortOnDrop(nudger);
        read_output(&s, reader_pty, &parser_nudge).await;
        if s.log.close() {
            parser.schedule(s);
        }
    });
    tokio::spawn(write_input(pty, input, session.clone()));
}

async fn read_output(session: &Arc<Session>, pty: Arc<PtyFd>, parser_nudge: &Notify) {
    let mut scanner = QueryScanner::default();
    let mut arena = BytesMut::new();
    let mut last_read = Instant::now();
    // The last read that was not tiny: what keeps a burst going.
    let mut last_big_read = Instant::now();
    let mut short_streak = 0;
    // Bytes read since the pty was last empty, and since this task's last turn.
    let mut unbroken = 0;
    let mut since_turn = 0;
    loop {
        // Read into the I/O thread's buffer, then copy just what came into the chunk
        // arena: most reads are short, and zeroing a fresh buffer per read cost more
        // than the copy.
        let take = |bytes: &[u8]| {
            session.last_output_ms.store(now_ms(), Ordering::Relaxed);
            let (kept, queries) = scanner.scan(bytes);
            if arena.capacity() < kept.len() {
                arena.reserve(ARENA_SIZE.max(kept.len()));
            }
            arena.extend_from_slice(&kept);
            (
                bytes.len(),
                session.log.append(arena.split().freeze(), &queries),
            )
        };
        let pty_empty = || unbroken = 0;
        // A burst ends once the program has paused for a moment, not whenever the
        // reader catches up with it: a program writing flat out pauses for a few
        // milliseconds each time the scheduler takes its CPU, and each such end let
        // every viewer stream the burst, which starved the program further (TUI · 10
        // viewers took 200 or 800 ms, run to run). Tiny reads do not count as
        // writing: a spinner or a log tail after a big paint would otherwise hold
        // its viewers for as long as it runs. The read goes first: output waiting
        // in the pty is never mistaken for a pause.
        let read = tokio::select! {
            biased;
            read = pty.read_with(take, pty_empty) => read,
            () = async { tokio::time::sleep_until((last_big_read + BURST_QUIET).into()).await },
                if session.log.in_burst() => {
                session.log.set_burst(false);
                continue;
            }
        };
        let (n, appended) = match read {
            Ok(Some(read)) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO: every slave fd is closed, the program and its children are gone.
            Ok(None) | Err(_) => break,
        };
        if appended.parser_unscheduled {
            parser_nudge.notify_one();
        }
        if appended.over_lag {
            session.log.room_for_more().await;
        }
        // A stream of tiny writes (`seq`, a log tail) would cost a wakeup of every
        // viewer per line. When several short reads follow each other closely, let
        // output gather for a moment. One short read among big ones (a fast writer
        // the reader briefly caught up with) does not count: pausing then would let
        // the pty fill and stall the writer. A lone keystroke echo never waits.
        let tiny_and_close = n < SHORT_READ && last_read.elapsed() < COALESCE_PAUSE;
        short_streak = if tiny_and_close { short_streak + 1 } else { 0 };
        last_read = Instant::now();
        if n >= SHORT_READ {
            last_big_read = last_read;
        }
        if short_streak >= COALESCE_STREAK {
            tokio::time::sleep(COALESCE_PAUSE).await;
        }
        // A pty that stays readable never makes this task yield (readiness costs no
        // coop budget): left alone, a program writing flat out would hold the I/O
        // thread, and every other session's output and echoes, until it paused.
        // So it takes turns, every 4 KiB: an echo beside a flood waited twice as
        // long at p99 with turns every 64 KiB, and the program was no faster. Its viewers hold
        // back meanwhile (see `attach`), or the turns would have them stream every
        // byte of the burst. (Once turns were only taken beside another session;
        // alone, its viewers then streamed the burst, and ten of them cost the
        // program up to twice as much.)
        unbroken += n;
        if unbroken >= BURST_BYTES {
            session.log.set_burst(true);
        }
        since_turn += n;
        if since_turn >= TURN_BYTES {
            since_turn = 0;
            tokio::task::yield_now().await;
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Gives the idle parser a turn for new output, as a task of its own: the runtime
/// runs woken tasks in order, so this runs after the viewers the same output woke,
/// and the wake's syscall and the parser taking a CPU never delay an echo on its
/// way out.
async fn wake_parser_after_viewers(
    session: Arc<Session>,
    parser: ShadowParser,
    nudge: Arc<Notify>,
) {
    loop {
        nudge.notified().await;
        if session.log.wake_parser() {
            parser.schedule(session.clone());
        }
    }
}

/// Keys, pastes and query answers, in the order they were queued; ends when the
/// session ends (its sender is dropped) or the program can take no more input.
async fn write_input(pty: Arc<PtyFd>, mut input: mpsc::Receiver<Vec<u8>>, session: Arc<Session>) {
    while let Some(bytes) = input.recv().await {
        if pty.write_all(&bytes).await.is_err() {
            break;
        }
        if input.is_empty() {
            session.input_drained.send_modify(|drained| *drained += 1);
        }
    }
}

async fn wait_for_exit(session: Arc<Session>) {
    let pid = session.meta.pid;
    let status = reaper::reap(pid).await;
    // Let the reader take what the program printed last. Anything else still
    // holding the pty (a background job) is hung up, then killed.
    if !log_closed_within(&session, Duration::from_millis(300)).await {
        procs::signal_session(pid, Signal::SIGHUP);
        if !log_closed_within(&session, Duration::from_secs(1)).await {
            procs::signal_session(pid, Signal::SIGKILL);
            log_closed_within(&session, Duration::from_secs(1)).await;
        }
    }
    // Then let the parser take it in, so the ended session shows its last screen.
    // Watched through the parsed seq, never the shadow's lock: this runs on the
    // I/O thread, and the parser may be megabytes behind.
    let head = session.log.head();
    let mut parsed = session.log.subscribe_parsed();
    let _ = tokio::time::timeout(Duration::from_secs(2), parsed.wait_for(|&seq| seq >= head)).await;
    session.finish(status);
    session.release_unwatched_output();
}

/// Whether the reader saw the end of output (closing the log notifies its
/// viewers) within `limit`.
async fn log_closed_within(session: &Session, limit: Duration) -> bool {
    let mut head = session.log.subscribe();
    let closed = async {
        while !session.log.is_closed() {
            if head.changed().await.is_err() {
                break;
            }
        }
    };
    tokio::time::timeout(limit, closed).await.is_ok() || session.log.is_closed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::spawn_for_test;
    use tokio::sync::watch;

    /// Whether the session's burst turned `on` (or off) within `secs`.
    async fn burst_turns(burst: &mut watch::Receiver<bool>, on: bool, secs: u64) -> bool {
        let turned = burst.wait_for(|&now| now == on);
        matches!(
            tokio::time::timeout(Duration::from_secs(secs), turned).await,
            Ok(Ok(_))
        )
    }

    #[tokio::test]
    async fn a_burst_ends_only_once_the_program_has_been_quiet_for_a_while() {
        let (session, _transcripts) = spawn_for_test(&[
            "sh",
            "-c",
            "read go; head -c 4000000 /dev/zero | tr '\\0' x; exec sleep 30",
        ]);
        // Watched before the program starts: a burst over before the watch
        // began would never be seen.
        let mut burst = session.log.subscribe_burst();
        session.write_input(b"\n".to_vec()).await.expect("input");
        let started = burst_turns(&mut burst, true, 60).await;
        let ended = started && burst_turns(&mut burst, false, 60).await;
        let quiet = now_ms() - session.last_output_ms.load(Ordering::Relaxed);
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
        assert!(started, "no burst");
        assert!(ended, "the burst never ended");
        // Each time the reader caught up with the program, the burst used to end
        // at once (0 or 1 ms after the last output), though a program writing flat
        // out pauses whenever the scheduler takes its CPU. (Both clocks count whole
        // milliseconds, and the flood's last read may be a tiny one.)
        assert!(
            quiet >= BURST_QUIET.as_millis() as u64 - 2,
            "the burst ended {quiet} ms after the last output"
        );
    }

    #[tokio::test]
    async fn a_trickle_after_a_burst_does_not_keep_it_going() {
        // A big paint, then a byte every fraction of a millisecond for as long as it
        // runs (a spinner, `tail -f` of a busy log): viewers must not stay held.
        let trickle = "read go; head -c 400000 /dev/zero | tr '\\0' x; \
            while :; do printf y; i=0; while [ $i -lt 100 ]; do i=$((i+1)); done; done";
        let (session, _transcripts) = spawn_for_test(&["sh", "-c", trickle]);
        let mut burst = session.log.subscribe_burst();
        session.write_input(b"\n".to_vec()).await.expect("input");
        let started = burst_turns(&mut burst, true, 60).await;
        let ended = started && burst_turns(&mut burst, false, 10).await;
        let trickled = session.log.head() > 400_000;
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
        assert!(started, "no burst");
        assert!(trickled, "the trickle never came");
        assert!(ended, "the trickle kept the burst going");
    }
}
