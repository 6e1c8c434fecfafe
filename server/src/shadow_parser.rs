//! The one background thread that feeds every session's output into its shadow
//! screen and answers the terminal queries inside it, taking sessions in turns.
//!
//! One thread for all sessions, not one each: an idle session then costs no
//! thread (its stack and malloc arena were 12–20 KiB a session), and a session
//! flooding its screen takes turns of one batch with the others.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::events::EventKind;
use crate::output_log::{ParseBatch, ParserTake};
use crate::reclaim::Reclaim;
use crate::session::Session;
use crate::sync::lock;
use crate::transcript::Transcripts;

/// The most the parser takes per turn, and per lock of a session's shadow screen,
/// so an attach never waits long for it.
pub const PARSE_BATCH: usize = 64 * 1024;
/// A batch smaller than this means the session writes a trickle...
const SMALL_BATCH: usize = 16 * 1024;
/// ...so its next turn waits this long: a stream of tiny writes (`seq`, a spinner)
/// is then parsed hundreds of times a second, not once per write.
const PACING: Duration = Duration::from_millis(2);
/// A skimmed flood's history is formatted once the session has written less
/// than `SMALL_BATCH` in this long: a parser that fast-forwards keeps up with a flood and is
/// often caught up in the middle of one, and formatting then would parse a
/// history's worth of output again for every pause of a few milliseconds.
const FLOOD_OVER: Duration = Duration::from_millis(100);
/// Niceness of the parser thread (0 is normal, 19 the lowest).
const NICENESS: i32 = 10;

/// A handle on the parser thread; the thread starts with the first session.
#[derive(Clone)]
pub struct ShadowParser {
    shared: Arc<Shared>,
}

struct Shared {
    turns: Mutex<Turns<Work>>,
    /// Signalled when a session is scheduled.
    work: Condvar,
    /// Parsed output goes on to each session's transcript.
    transcripts: Transcripts,
    /// Parsed output leaves its log: memory to give back once output calms.
    reclaim: Arc<Reclaim>,
}

impl ShadowParser {
    pub fn new(transcripts: Transcripts, reclaim: Arc<Reclaim>) -> Self {
        Self {
            shared: Arc::new(Shared {
                turns: Mutex::default(),
                work: Condvar::new(),
                transcripts,
                reclaim,
            }),
        }
    }

    /// Starts the thread unless it runs already.
    pub fn start(&self) -> Result<()> {
        let mut turns = lock(&self.shared.turns);
        if !turns.started {
            let shared = self.shared.clone();
            std::thread::Builder::new()
                .name("shadow".into())
                .spawn(move || run(&shared))
                .context("cannot start the shadow parser thread")?;
            turns.started = true;
        }
        Ok(())
    }

    /// Where memory the sessions free is counted.
    pub fn reclaim(&self) -> Arc<Reclaim> {
        self.shared.reclaim.clone()
    }

    /// Gives `session` a turn. Only for a session its log reported idle and that
    /// `OutputLog::wake_parser` (or `close`) then said to schedule: a session is
    /// never queued twice.
    pub fn schedule(&self, session: Arc<Session>) {
        lock(&self.shared.turns).push(Work::Parse(session));
        self.shared.work.notify_one();
    }

    /// Packs `session`'s screen (it turned idle) in its turn: here, where the
    /// screens are parsed, rather than on a thread (and malloc arena) of its own.
    pub fn pack(&self, session: Arc<Session>) {
        lock(&self.shared.turns).push(Work::Pack(session));
        self.shared.work.notify_one();
    }
}

/// What a turn of the thread is for.
enum Work {
    /// A batch of the session's output.
    Parse(Arc<Session>),
    /// Packing its idle screen.
    Pack(Arc<Session>),
    /// Formatting the history of a flood it skimmed, if it has written little
    /// since its log's head was here (`FLOOD_OVER` ago).
    Settle(Arc<Session>, u64),
}

fn run(shared: &Shared) {
    // The shadow is background work: when CPU is short, the programs, the I/O
    // thread and the viewers go first and the parser catches up when they pause.
    // Its lag is bounded by each log (MAX_PARSER_LAG), and attach and resync never
    // wait for it. On Linux a thread id names just this thread.
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICENESS);
    loop {
        let session = match shared.next_turn() {
            Work::Parse(session) => session,
            Work::Pack(session) => {
                if catch_unwind(AssertUnwindSafe(|| session.pack_screen())).is_err() {
                    tracing::error!(session = %session.name(), "packing the screen failed; it stays as it was");
                }
                continue;
            }
            Work::Settle(session, head) => {
                let name = session.name().to_owned();
                if catch_unwind(AssertUnwindSafe(|| settle_if_quiet(shared, session, head)))
                    .is_err()
                {
                    tracing::error!(session = %name, "formatting a flood's history failed");
                }
                continue;
            }
        };
        // Nothing in one session's turn may stop the thread every session needs.
        match catch_unwind(AssertUnwindSafe(|| take_turn(shared, &session))) {
            Ok(Some(Pace::Now)) => lock(&shared.turns).push(Work::Parse(session)),
            Ok(Some(Pace::Later)) => {
                let at = Instant::now() + PACING;
                lock(&shared.turns).push_after(Work::Parse(session), at);
            }
            Ok(None) => {}
            Err(_) => {
                tracing::error!(session = %session.name(), "the shadow parser failed on this session; its screen stops here");
            }
        }
    }
}

/// When a session's next turn comes.
enum Pace {
    Now,
    /// It writes a trickle: after `PACING`.
    Later,
}

/// Parses one batch of the session's output; `None` if it had none (idle: its
/// next output schedules it again; ended: it is done).
fn take_turn(shared: &Shared, session: &Arc<Session>) -> Option<Pace> {
    let batch = match session.log.next_for_parser(PARSE_BATCH) {
        ParserTake::Batch(batch) => batch,
        ParserTake::Idle => {
            // Caught up, maybe only for now: a flood's history waits for its end.
            watch_for_flood_end(shared, session);
            return None;
        }
        ParserTake::Ended => {
            shared.reclaim.released(session.settle_history_in_steps());
            return None;
        }
    };
    let pace = if batch.bytes.len() < SMALL_BATCH {
        Pace::Later
    } else {
        Pace::Now
    };
    let (end, queries) = (batch.start + batch.bytes.len() as u64, batch.queries.len());
    shared.reclaim.parsed(batch.bytes.len());
    // A panic in the terminal emulator skips the batch, not the session.
    match catch_unwind(AssertUnwindSafe(|| parse(session, batch, &shared.reclaim))) {
        Ok(bytes) => {
            session.unless_removed(|| shared.transcripts.append(session.name(), bytes));
        }
        Err(_) => {
            tracing::error!(session = %session.name(), "the shadow screen failed on a batch; skipped");
            skip_failed_batch(session, end, queries);
        }
    }
    if matches!(pace, Pace::Later) {
        // A trickle: the parser may never find the log idle.
        watch_for_flood_end(shared, session);
    }
    Some(pace)
}

/// Once a skimmed flood's output slows (the parser caught up, or took a small
/// batch), a settle turn `FLOOD_OVER` later, unless one is queued.
fn watch_for_flood_end(shared: &Shared, session: &Arc<Session>) {
    if session.shadow().is_skimming() && !session.settle_queued.swap(true, Ordering::Relaxed) {
        shared.settle_later(session.clone(), session.log.head());
    }
}

/// A settle turn: formats a skimmed flood's history if the session wrote
/// less than a flood would since `head` (`SMALL_BATCH` in `FLOOD_OVER`: a
/// spinner or a log line now and then after a flood must not keep it
/// skimming, holding a history's worth of output), caught up or not: output
/// that follows waits for the formatting (`Shadow::process`). While the
/// flood goes on, it looks again `FLOOD_OVER` later; once skimming has ended
/// otherwise (a reader, a repaint), it stops looking.
fn settle_if_quiet(shared: &Shared, session: Arc<Session>, head: u64) {
    let now_head = session.log.head();
    if !session.shadow().is_skimming() {
        session.settle_queued.store(false, Ordering::Relaxed);
    } else if now_head - head < SMALL_BATCH as u64 {
        session.settle_queued.store(false, Ordering::Relaxed);
        shared.reclaim.released(session.settle_history_in_steps());
    } else {
        shared.settle_later(session, now_head);
    }
}

/// After a panic in `parse`: the batch counts as parsed by the screen and the log
/// alike. A viewer redrawn from the screen resumes at the screen's seq, so a screen
/// left behind the log's parsed point sent viewers to bytes the log may let go
/// (an idle session does): redraw after redraw, thousands a second. Unless `parse`
/// got as far as marking: marking twice would retire later queries.
fn skip_failed_batch(session: &Session, end: u64, queries: usize) {
    {
        let mut shadow = session.shadow();
        shadow.seq = shadow.seq.max(end);
        shadow.lose_track();
    }
    if session.log.parsed() < end {
        session.log.mark_parsed(end, queries);
    }
}

impl Shared {
    fn settle_later(&self, session: Arc<Session>, head: u64) {
        let at = Instant::now() + FLOOD_OVER;
        lock(&self.turns).push_after(Work::Settle(session, head), at);
        self.work.notify_one();
    }

    /// Blocks until a turn comes.
    fn next_turn(&self) -> Work {
        let mut turns = lock(&self.turns);
        loop {
            turns = match turns.take(Instant::now()) {
                Ok(session) => return session,
                // Poisoned or not, as `sync::lock`.
                Err(None) => self
                    .work
                    .wait(turns)
                    .unwrap_or_else(PoisonError::into_inner),
                Err(Some(at)) => {
                    let timeout = at.saturating_duration_since(Instant::now());
                    match self.work.wait_timeout(turns, timeout) {
                        Ok((turns, _)) => turns,
                        Err(poisoned) => poisoned.into_inner().0,
                    }
                }
            }
        }
    }
}

/// Feeds one batch into the session's screen, answers its queries, then reports
/// a changed title and bells. Returns the batch's bytes.
fn parse(session: &Session, batch: ParseBatch, reclaim: &Reclaim) -> Vec<u8> {
    let end = batch.start + batch.bytes.len() as u64;
    let backlog = session.log.head().saturating_sub(end);
    let mut replies = Vec::with_capacity(batch.queries.len());
    let (title_after, bells_before, bells_after);
    {
        let mut shadow = session.shadow();
        if shadow.pace_history(backlog) {
            // Skimming stops: the rows skimmed go to history before this
            // batch's, formatted a step at a time with the lock let go between.
            drop(shadow);
            reclaim.released(session.settle_history_in_steps());
            shadow = session.shadow();
        }
        let title_changes_before = shadow.state().title_changes;
        bells_before = shadow.state().bells;
        let mut done = 0;
        for (seq, query) in &batch.queries {
            let at = (seq - batch.start) as usize;
            shadow.process(&batch.bytes[done..at]);
            done = at;
            replies.push(query.answer(shadow.with_screen(vt100::Screen::cursor_position)));
        }
        shadow.process(&batch.bytes[done..]);
        shadow.seq = end;
        // Cloned only when it changed: most batches set no title.
        title_after = (shadow.state().title_changes != title_changes_before)
            .then(|| shadow.state().title.clone());
        bells_after = shadow.state().bells;
        // Hand the screen straight to a waiter (the I/O thread: an attach, the
        // activity sampler, a capture). A plain unlock lets this thread, when it
        // is behind, take the lock back batch after batch and keep the runtime
        // blocked until it has caught up: hundreds of ms under `seq`.
        parking_lot::MutexGuard::unlock_fair(shadow);
    }
    session.log.mark_parsed(end, batch.queries.len());
    for reply in replies {
        session.queue_reply(reply);
    }
    if let Some(title) = title_after {
        session.bus.emit(session.name(), EventKind::Title { title });
    }
    if bells_after != bells_before {
        session.bus.emit(session.name(), EventKind::Bell);
    }
    batch.bytes
}

/// Whose turn it is: sessions with output waiting, in order, and sessions whose
/// next turn is paced, each with when it comes.
struct Turns<T> {
    started: bool,
    ready: VecDeque<T>,
    /// In order of when they come.
    paced: VecDeque<(Instant, T)>,
}

impl<T> Default for Turns<T> {
    fn default() -> Self {
        Self {
            started: false,
            ready: VecDeque::new(),
            paced: VecDeque::new(),
        }
    }
}

impl<T> Turns<T> {
    fn push(&mut self, item: T) {
        self.ready.push_back(item);
    }

    fn push_after(&mut self, item: T, at: Instant) {
        let place = self.paced.partition_point(|(due, _)| *due <= at);
        self.paced.insert(place, (at, item));
    }

    /// The next turn due at `now`, or when to look again (`None`: when told).
    /// A paced turn that has come goes before the ready ones: it has waited.
    fn take(&mut self, now: Instant) -> Result<T, Option<Instant>> {
        if self.paced.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, item)) = self.paced.pop_front() {
                return Ok(item);
            }
        }
        self.ready
            .pop_front()
            .ok_or_else(|| self.paced.front().map(|(at, _)| *at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_batch_leaves_screen_and_log_at_the_same_point() {
        use bytes::Bytes;

        use crate::output_log::ReadOutcome;

        let (session, _transcripts) = crate::session::spawn_for_test(&["sleep", "30"]);
        // Output the parser is not told about: this test takes the batch, as the
        // parser thread would, and fails it.
        let _ = session.log.append(Bytes::from_static(b"BOOM"), &[]);
        let ParserTake::Batch(batch) = session.log.next_for_parser(PARSE_BATCH) else {
            panic!("expected the appended bytes as a batch");
        };
        let end = batch.start + batch.bytes.len() as u64;
        skip_failed_batch(&session, end, 0);

        assert_eq!(session.shadow().seq, end);
        assert_eq!(session.log.parsed(), end);
        // The session goes idle and lets its parsed bytes go; a viewer redrawn
        // from the screen resumes at the screen's seq and finds the log there.
        session.log.release_parsed();
        let resume_at = session.shadow().seq;
        assert!(matches!(
            session.log.read_at(resume_at, 1024),
            ReadOutcome::UpToDate
        ));
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
    }

    /// Whether, within `timeout`, the parser got past `parsed` bytes of the
    /// session's output and stopped skimming.
    async fn skimming_ends(session: &Session, parsed: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if session.log.parsed() > parsed && !session.shadow().is_skimming() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_skimmed_flood_is_formatted_once_the_session_is_quiet() {
        let (session, _transcripts) =
            crate::session::spawn_for_test(&["sh", "-c", "read go; seq 1 20000; exec sleep 30"]);
        assert!(
            session.shadow().begin_skim(),
            "a fresh screen can be skimmed"
        );
        session.write_input(b"\n".to_vec()).await.expect("input");
        // The parser catches up with the flood, perhaps more than once, and
        // formats the history only once the flood is over for `FLOOD_OVER`.
        let settled = skimming_ends(&session, 100_000, Duration::from_secs(10)).await;
        let last = session
            .shadow()
            .history()
            .last(1)
            .map(crate::history::plain_text)
            .collect::<Vec<_>>();
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
        assert!(settled, "the flood's history was never formatted");
        // 24 rows: 19978 to 20000 and the cursor's row show.
        assert_eq!(last, ["19977"]);
    }

    #[tokio::test]
    async fn a_trickle_after_a_flood_lets_its_history_be_formatted() {
        // A spinner every 50 ms after the flood: never quiet, never a flood.
        let script = "read go; seq 1 300000; \
            i=0; while :; do i=$((i+1)); printf '\\r%s' $i; sleep 0.05; done";
        let (session, _transcripts) = crate::session::spawn_for_test(&["sh", "-c", script]);
        assert!(
            session.shadow().begin_skim(),
            "a fresh screen can be skimmed"
        );
        session.write_input(b"\n".to_vec()).await.expect("input");
        let settled = skimming_ends(&session, 2_000_000, Duration::from_secs(20)).await;
        // The spinner still turns: it was not the program's end.
        let head = session.log.head();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let spinning = settled && session.log.head() > head;
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
        assert!(settled, "still skimming, holding the flood's output");
        assert!(spinning, "the spinner had stopped");
    }

    /// A parser thread's shared state of its own, for calling its turns
    /// directly; the session's own parser is never told of the output below.
    fn own_shared(dir: &std::path::Path) -> Shared {
        Shared {
            turns: Mutex::default(),
            work: Condvar::new(),
            transcripts: Transcripts::new(dir.join("own")),
            reclaim: Arc::new(Reclaim::default()),
        }
    }

    fn paced_turns(shared: &Shared) -> usize {
        lock(&shared.turns).paced.len()
    }

    #[tokio::test]
    async fn a_trickle_while_skimming_looks_for_the_flood_end_after_each_small_batch() {
        let (session, transcripts) = crate::session::spawn_for_test(&["sleep", "30"]);
        let shared = own_shared(transcripts.path());
        {
            // Skimming a flood whose history is dear to parse again (more
            // than `CHEAP_TO_SETTLE` kept).
            let mut shadow = session.shadow();
            assert!(shadow.begin_skim());
            let line = format!("{}\r\n", "x".repeat(70));
            shadow.process(line.repeat(10_000).as_bytes());
        }
        // A log line: a small batch, not an idle log. The parser, paced by
        // such batches, may never find the log idle.
        let _ = session
            .log
            .append(bytes::Bytes::from_static(b"a log line\r\n"), &[]);
        assert!(matches!(take_turn(&shared, &session), Some(Pace::Later)));
        let queued = session.settle_queued.load(Ordering::Relaxed);
        let turns = paced_turns(&shared);
        // Formatting does not wait for the parser to catch up: output behind
        // it waits for the formatting.
        let _ = session
            .log
            .append(bytes::Bytes::from_static(b"another\r\n"), &[]);
        let head = session.log.head();
        settle_if_quiet(&shared, session.clone(), head - 1);
        let skimming = session.shadow().is_skimming();
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
        assert!(queued && turns == 1, "no settle turn after a small batch");
        assert!(!skimming, "a trickle kept the flood's history waiting");
    }

    #[tokio::test]
    async fn a_flood_still_coming_is_looked_at_again_and_not_formatted() {
        let (session, transcripts) = crate::session::spawn_for_test(&["sleep", "30"]);
        let shared = own_shared(transcripts.path());
        assert!(session.shadow().begin_skim());
        let head = session.log.head();
        let flood = vec![b'x'; SMALL_BATCH];
        let _ = session.log.append(bytes::Bytes::from(flood), &[]);
        session.settle_queued.store(true, Ordering::Relaxed);
        settle_if_quiet(&shared, session.clone(), head);
        let (skimming, turns) = (session.shadow().is_skimming(), paced_turns(&shared));
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
        assert!(skimming, "formatted in the middle of a flood");
        assert_eq!(turns, 1, "not looked at again");
        assert!(session.settle_queued.load(Ordering::Relaxed));
    }

    #[test]
    fn ready_sessions_take_turns_in_order() {
        let mut turns = Turns::default();
        let now = Instant::now();
        turns.push("flood");
        turns.push("echo");
        assert_eq!(turns.take(now), Ok("flood"));
        // The flood had its batch and goes to the back.
        turns.push("flood");
        assert_eq!(turns.take(now), Ok("echo"));
        assert_eq!(turns.take(now), Ok("flood"));
        assert_eq!(turns.take(now), Err(None));
    }

    #[test]
    fn a_paced_session_waits_its_time_then_goes_first() {
        let mut turns = Turns::default();
        let now = Instant::now();
        let due = now + PACING;
        turns.push_after("trickle", due);
        assert_eq!(turns.take(now), Err(Some(due)));
        turns.push("flood");
        assert_eq!(turns.take(now), Ok("flood"));
        turns.push("flood");
        assert_eq!(turns.take(due), Ok("trickle"));
        assert_eq!(turns.take(due), Ok("flood"));
    }

    #[test]
    fn paced_turns_come_in_order_of_when_they_are_due() {
        let mut turns = Turns::default();
        let now = Instant::now();
        turns.push_after("settle", now + FLOOD_OVER);
        turns.push_after("trickle", now + PACING);
        assert_eq!(turns.take(now + PACING), Ok("trickle"));
        assert_eq!(turns.take(now + PACING), Err(Some(now + FLOOD_OVER)));
        assert_eq!(turns.take(now + FLOOD_OVER), Ok("settle"));
    }
}
