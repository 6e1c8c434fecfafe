//! A session's output as a ring of byte chunks addressed by `seq`, the byte offset
//! since spawn. The pty reader appends, the shadow parser consumes in order, and
//! every viewer keeps its own cursor: nobody's lag can make the ring grow without bound.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::watch;

use crate::queries::Query;
use crate::sync::lock;

/// Bytes kept behind the head (on top of whatever the parser has not taken in),
/// so a briefly slow viewer catches up from the ring instead of a full redraw.
/// Only while output flows: an idle session lets them go (`release_parsed`).
const RETAIN_BYTES: usize = 512 * 1024;
/// How far the shadow parser may fall behind before the reader waits for it. The
/// only back-pressure on the program, and generous so bursts never feel it.
const MAX_PARSER_LAG: usize = 16 * 1024 * 1024;
/// Likewise for queries waiting for their answer: cut out of the stream they
/// leave almost no bytes behind, so a program that floods them (`yes` of a
/// cursor-position query) would otherwise queue millions.
const MAX_UNANSWERED: usize = 4096;

pub struct OutputLog {
    state: Mutex<LogState>,
    /// The head seq, for async viewers.
    head_tx: watch::Sender<u64>,
    /// The parsed seq, for whoever reads the shadow screen (clipped views,
    /// `wait --match`, activity): it moves after the head, and last.
    parsed_tx: watch::Sender<u64>,
    /// Whether the program is in a burst of output (the reader's call: from 64 KiB
    /// read without the pty running dry until 5 ms without a read of 1 KiB or
    /// more): viewers then send a frame only now and then.
    burst_tx: watch::Sender<bool>,
}

struct LogState {
    /// Each chunk with the seq of its first byte, so a cursor is found by binary
    /// search however long the ring grows while the parser lags.
    chunks: VecDeque<(u64, Bytes)>,
    /// Seq of the first byte kept (of `chunks[0]`, or `head` when empty).
    tail: u64,
    head: u64,
    /// Everything before this seq is in the shadow screen.
    parsed: u64,
    /// Terminal queries cut out of the stream, at the seq where they stood.
    queries: VecDeque<(u64, Query)>,
    closed: bool,
    /// Whether this log is out of the shadow parser's turns (it found nothing to
    /// do here): it must be scheduled again (`ShadowParser::schedule`) before it
    /// takes more. Only then, because scheduling costs a syscall.
    unscheduled: bool,
}

/// What a viewer finds at its cursor.
pub enum ReadOutcome {
    /// Bytes from the cursor on; the cursor moves by their length.
    Data(Bytes),
    /// Nothing new yet.
    UpToDate,
    /// The cursor fell out of the ring: redraw from the shadow screen.
    Behind,
    /// Nothing new and nothing ever will be.
    Closed,
}

/// What the reader learns from an append.
#[must_use]
pub struct Appended {
    /// This log is out of the parser's turns: call `wake_parser`, and schedule the
    /// session if it says so. Left to the caller so the wake (a futex syscall,
    /// and a thread taking a CPU) can come after the viewers have been sent the
    /// bytes: a keystroke echo must not wait for it.
    pub parser_unscheduled: bool,
    /// The parser is too far behind: await `room_for_more` before reading again.
    pub over_lag: bool,
}

/// What the parser finds when it comes for more.
pub enum ParserTake {
    /// Output (and the queries inside it) to parse.
    Batch(ParseBatch),
    /// Everything is parsed. The log is now out of the parser's turns: the next
    /// append reports it unscheduled.
    Idle,
    /// Everything is parsed and the log is closed: nothing will ever come.
    Ended,
}

/// A stretch of output for the parser, with the queries that sat inside it.
pub struct ParseBatch {
    pub start: u64,
    pub bytes: Vec<u8>,
    pub queries: Vec<(u64, Query)>,
}

impl Default for OutputLog {
    fn default() -> Self {
        Self::new()
    }
}

impl OutputLog {
    pub fn new() -> Self {
        Self {
            state: Mutex::new(LogState {
                chunks: VecDeque::new(),
                tail: 0,
                head: 0,
                parsed: 0,
                queries: VecDeque::new(),
                closed: false,
                // Nobody has scheduled the parser for a new log yet.
                unscheduled: true,
            }),
            head_tx: watch::channel(0).0,
            parsed_tx: watch::channel(0).0,
            burst_tx: watch::channel(false).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        lock(&self.state)
    }

    /// Resolves once the shadow parser is less than `MAX_PARSER_LAG` (and
    /// `MAX_UNANSWERED` queries) behind: the
    /// reader awaits this before reading more, the only back-pressure on the program.
    pub async fn room_for_more(&self) {
        let mut parsed = self.parsed_tx.subscribe();
        loop {
            {
                let st = self.lock();
                if !st.over_lag() || st.closed {
                    return;
                }
            }
            if parsed.changed().await.is_err() {
                return;
            }
        }
    }

    /// Appends a chunk (the reader). `queries` carry offsets into `chunk`. Never
    /// blocks, and never wakes the parser itself: see [`Appended`].
    pub fn append(&self, chunk: Bytes, queries: &[(usize, Query)]) -> Appended {
        let mut st = self.lock();
        let start = st.head;
        for &(offset, query) in queries {
            st.queries.push_back((start + offset as u64, query));
        }
        st.head += chunk.len() as u64;
        if !chunk.is_empty() {
            st.chunks.push_back((start, chunk));
        }
        st.evict();
        let head = st.head;
        let appended = Appended {
            parser_unscheduled: st.unscheduled,
            over_lag: st.over_lag(),
        };
        drop(st);
        self.head_tx.send_replace(head);
        appended
    }

    /// Whether the parser must be scheduled for this log: true once per spell out
    /// of its turns. Once told, the log counts as scheduled (the parser marks it
    /// unscheduled again when it next finds nothing), so the reads that follow
    /// before it runs cost no further syscalls.
    #[must_use]
    pub fn wake_parser(&self) -> bool {
        std::mem::take(&mut self.lock().unscheduled)
    }

    /// Marks the end of output (reader saw EOF). Returns whether the idle parser
    /// must be scheduled: output appended just before may not have woken it yet.
    #[must_use]
    pub fn close(&self) -> bool {
        let wake = {
            let mut st = self.lock();
            st.closed = true;
            let unparsed = st.parsed != st.head || !st.queries.is_empty();
            unparsed && std::mem::take(&mut st.unscheduled)
        };
        // Wake viewers so they notice the end.
        self.head_tx.send_modify(|_| {});
        self.set_burst(false);
        wake
    }

    /// Says whether the program is in a burst of output (the reader), waking
    /// viewers when that changes.
    pub fn set_burst(&self, burst: bool) {
        self.burst_tx
            .send_if_modified(|now| std::mem::replace(now, burst) != burst);
    }

    /// Whether the program is in a burst of output (as the reader last said).
    pub fn in_burst(&self) -> bool {
        *self.burst_tx.borrow()
    }

    pub fn subscribe_burst(&self) -> watch::Receiver<bool> {
        self.burst_tx.subscribe()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head_tx.subscribe()
    }

    /// Changes each time the shadow screen has taken in more output.
    pub fn subscribe_parsed(&self) -> watch::Receiver<u64> {
        self.parsed_tx.subscribe()
    }

    pub fn head(&self) -> u64 {
        self.lock().head
    }

    /// The oldest seq a viewer can still read from.
    pub fn tail(&self) -> u64 {
        self.lock().tail
    }

    /// Everything before this seq is in the shadow screen.
    pub fn parsed(&self) -> u64 {
        self.lock().parsed
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Up to `max` bytes of unparsed output with the queries inside them. Never
    /// blocks: with nothing to parse the parser is marked idle (see [`ParserTake`]).
    pub fn next_for_parser(&self, max: usize) -> ParserTake {
        let mut st = self.lock();
        if st.parsed == st.head && st.queries.is_empty() {
            if st.closed {
                return ParserTake::Ended;
            }
            st.unscheduled = true;
            return ParserTake::Idle;
        }
        let start = st.parsed;
        let end = st.head.min(start + max as u64);
        let slices = st.slices(start, end);
        let queries = st
            .queries
            .iter()
            .take_while(|(seq, _)| *seq <= end)
            .copied()
            .collect();
        drop(st);
        let bytes = concat(&slices, (end - start) as usize);
        ParserTake::Batch(ParseBatch {
            start,
            bytes,
            queries,
        })
    }

    /// Drops the parsed bytes kept for slow viewers; returns how many. For a
    /// session gone idle: whoever is still behind then gets a redraw, which is
    /// cheap when nothing changes, and an idle agent does not hold 512 KiB of
    /// output it printed long ago.
    pub fn release_parsed(&self) -> usize {
        self.lock().drop_parsed_keeping(0)
    }

    /// Parsed bytes still kept, for the tests of who lets them go.
    #[cfg(test)]
    pub fn kept_parsed(&self) -> u64 {
        let st = self.lock();
        st.parsed - st.tail
    }

    /// Records that the parser consumed everything before `seq`.
    /// `answered` is how many of the batch's queries were answered: exactly those
    /// leave the queue. (A query the reader appended at the batch's end seq after
    /// the batch was taken is still unanswered, so popping by seq would lose it.)
    pub fn mark_parsed(&self, seq: u64, answered: usize) {
        let mut st = self.lock();
        st.parsed = seq;
        let answered = answered.min(st.queries.len());
        st.queries.drain(..answered);
        st.evict();
        drop(st);
        self.parsed_tx.send_replace(seq);
    }

    /// Reads up to `max` bytes at a viewer's cursor.
    pub fn read_at(&self, cursor: u64, max: usize) -> ReadOutcome {
        let st = self.lock();
        if cursor < st.tail {
            return ReadOutcome::Behind;
        }
        if cursor >= st.head {
            return if st.closed {
                ReadOutcome::Closed
            } else {
                ReadOutcome::UpToDate
            };
        }
        let end = st.head.min(cursor + max as u64);
        let first = st.chunk_at(cursor);
        // Zero-copy when the range sits in one chunk, the common case.
        if let Some((start, chunk)) = st.chunks.get(first) {
            if end <= start + chunk.len() as u64 {
                return ReadOutcome::Data(
                    chunk.slice((cursor - start) as usize..(end - start) as usize),
                );
            }
        }
        let slices = st.slices(cursor, end);
        drop(st);
        ReadOutcome::Data(Bytes::from(concat(&slices, (end - cursor) as usize)))
    }
}

impl LogState {
    /// The parser is too far behind for the reader to read more.
    fn over_lag(&self) -> bool {
        (self.head - self.parsed) as usize > MAX_PARSER_LAG || self.queries.len() > MAX_UNANSWERED
    }

    /// Index of the chunk holding `seq` (which must lie in `tail..head`).
    fn chunk_at(&self, seq: u64) -> usize {
        self.chunks
            .partition_point(|(start, chunk)| start + chunk.len() as u64 <= seq)
    }

    /// Drops whole chunks that are parsed and older than the retention window.
    fn evict(&mut self) {
        self.drop_parsed_keeping(RETAIN_BYTES);
    }

    /// Drops whole parsed chunks from the front while at least `retain` bytes
    /// would still follow them; returns how many bytes went.
    fn drop_parsed_keeping(&mut self, retain: usize) -> usize {
        let mut dropped = 0;
        while let Some((start, front)) = self.chunks.front() {
            let front_end = start + front.len() as u64;
            let retained_after = self.head - front_end;
            if front_end > self.parsed || (retained_after as usize) < retain {
                break;
            }
            dropped += front.len();
            self.tail = front_end;
            self.chunks.pop_front();
        }
        dropped
    }

    /// `start..end` as slices of the chunks (refcounted, no copy): taken under the
    /// lock and copied after it. The parser runs at nice 10; preempted in the
    /// middle of a 64 KiB copy under the lock, it kept the reader waiting for
    /// milliseconds (measured: up to 3.9 ms).
    fn slices(&self, start: u64, end: u64) -> Vec<Bytes> {
        let mut slices = Vec::new();
        for (chunk_start, chunk) in self.chunks.range(self.chunk_at(start)..) {
            if *chunk_start >= end {
                break;
            }
            let chunk_end = chunk_start + chunk.len() as u64;
            let from = start.saturating_sub(*chunk_start) as usize;
            let to = (end.min(chunk_end) - chunk_start) as usize;
            slices.push(chunk.slice(from..to));
        }
        slices
    }
}

fn concat(slices: &[Bytes], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    for slice in slices {
        out.extend_from_slice(slice);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(outcome: ReadOutcome) -> Vec<u8> {
        match outcome {
            ReadOutcome::Data(b) => b.to_vec(),
            _ => panic!("expected data"),
        }
    }

    fn take(log: &OutputLog, max: usize) -> ParseBatch {
        match log.next_for_parser(max) {
            ParserTake::Batch(batch) => batch,
            ParserTake::Idle => panic!("expected a batch, the parser went idle"),
            ParserTake::Ended => panic!("expected a batch, the log ended"),
        }
    }

    #[test]
    fn an_idle_parser_is_reported_until_it_is_woken_once() {
        let log = OutputLog::new();
        let appended = log.append(Bytes::from_static(b"echo"), &[]);
        assert!(appended.parser_unscheduled && !appended.over_lag);
        // `append` itself never wakes it: that is left to the caller...
        assert!(log.append(Bytes::from_static(b"!"), &[]).parser_unscheduled);
        // ...who is told to schedule it exactly once.
        assert!(log.wake_parser());
        assert!(!log.wake_parser());
        assert!(!log.append(Bytes::from_static(b"?"), &[]).parser_unscheduled);
        assert_eq!(take(&log, 1024).bytes, b"echo!?");
    }

    #[test]
    fn closing_asks_for_the_idle_parser_only_if_output_waits() {
        let log = OutputLog::new();
        assert!(matches!(log.next_for_parser(1024), ParserTake::Idle));
        // The reader appended its last bytes and met the end before waking it.
        let _ = log.append(Bytes::from_static(b"bye"), &[]);
        assert!(log.close(), "the last output would never be parsed");
        let last = take(&log, 1024);
        log.mark_parsed(last.start + last.bytes.len() as u64, 0);
        assert!(matches!(log.next_for_parser(1024), ParserTake::Ended));

        let quiet = OutputLog::new();
        assert!(matches!(quiet.next_for_parser(1024), ParserTake::Idle));
        assert!(!quiet.close(), "nothing to parse, nothing to wake");
    }

    #[test]
    fn a_flood_of_queries_makes_the_reader_wait_like_a_flood_of_bytes() {
        let log = OutputLog::new();
        let queries: Vec<(usize, Query)> = (0..MAX_UNANSWERED)
            .map(|_| (0, Query::CursorPosition))
            .collect();
        assert!(!log.append(Bytes::from_static(b"\n"), &queries).over_lag);
        // Almost no bytes, but one query too many waits for its answer.
        assert!(
            log.append(Bytes::new(), &[(0, Query::CursorPosition)])
                .over_lag
        );
        let batch = take(&log, 1024);
        log.mark_parsed(batch.start + batch.bytes.len() as u64, batch.queries.len());
        assert!(!log.append(Bytes::new(), &[]).over_lag);
    }

    #[test]
    fn viewers_read_across_chunks_by_seq() {
        let log = OutputLog::new();
        let _ = log.append(Bytes::from_static(b"hello "), &[]);
        let _ = log.append(Bytes::from_static(b"world"), &[]);
        assert_eq!(data(log.read_at(0, 100)), b"hello world");
        assert_eq!(data(log.read_at(3, 5)), b"lo wo");
        assert!(matches!(log.read_at(11, 100), ReadOutcome::UpToDate));
    }

    #[test]
    fn a_lagging_viewer_is_told_to_resync_once_parsed_bytes_leave_the_ring() {
        let log = OutputLog::new();
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        for _ in 0..20 {
            let _ = log.append(chunk.clone(), &[]);
            let head = log.head();
            log.mark_parsed(head, 0);
        }
        assert!(matches!(log.read_at(0, 10), ReadOutcome::Behind));
        let recent = log.head() - 10;
        assert_eq!(data(log.read_at(recent, 10)).len(), 10);
    }

    #[test]
    fn an_idle_log_lets_parsed_bytes_go_and_keeps_the_rest() {
        let log = OutputLog::new();
        let _ = log.append(Bytes::from(vec![b'a'; 1000]), &[]);
        let _ = log.append(Bytes::from(vec![b'b'; 500]), &[]);
        log.mark_parsed(1000, 0);
        let _ = log.append(Bytes::from(vec![b'c'; 200]), &[]);

        assert_eq!(log.release_parsed(), 1000);
        // A viewer behind the parsed point is redrawn; the unparsed rest still reads.
        assert!(matches!(log.read_at(10, 10), ReadOutcome::Behind));
        assert_eq!(data(log.read_at(1000, 2000)).len(), 700);
        assert_eq!(take(&log, 1 << 20).start, 1000);
        // A caught-up viewer stays caught up.
        log.mark_parsed(1700, 0);
        assert_eq!(log.release_parsed(), 700);
        assert!(matches!(log.read_at(1700, 10), ReadOutcome::UpToDate));
    }

    #[test]
    fn unparsed_bytes_are_never_evicted() {
        let log = OutputLog::new();
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        for _ in 0..20 {
            let _ = log.append(chunk.clone(), &[]);
        }
        let batch = take(&log, usize::MAX);
        assert_eq!(batch.start, 0);
        assert_eq!(batch.bytes.len(), 20 * 64 * 1024);
    }

    #[test]
    fn a_query_arriving_at_the_end_of_a_taken_batch_is_not_lost() {
        let log = OutputLog::new();
        let _ = log.append(Bytes::from_static(b"\x1b[5;10H"), &[]);
        let batch = take(&log, 1024);
        assert!(batch.queries.is_empty());
        // The query alone was cut out: an empty chunk with a query at the old head.
        let _ = log.append(Bytes::new(), &[(0, Query::CursorPosition)]);
        log.mark_parsed(batch.start + batch.bytes.len() as u64, batch.queries.len());
        let next = take(&log, 1024);
        assert_eq!(next.queries, vec![(7, Query::CursorPosition)]);
    }

    #[test]
    fn parser_sees_queries_at_their_seq_and_closing_ends_it() {
        let log = OutputLog::new();
        let _ = log.append(Bytes::from_static(b"abc"), &[(2, Query::DeviceStatus)]);
        let _ = log.close();
        let batch = take(&log, 1024);
        assert_eq!(batch.queries, vec![(2, Query::DeviceStatus)]);
        log.mark_parsed(3, 1);
        assert!(matches!(log.next_for_parser(1024), ParserTake::Ended));
        assert!(matches!(log.read_at(3, 10), ReadOutcome::Closed));
    }
}
