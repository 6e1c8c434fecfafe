//! Watches a stream of terminal output for needles and stamps the moment each one
//! first arrives, so a benchmark can time "until this was painted" precisely.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

/// Bytes kept from the previous chunk so a needle split across reads is found.
const TAIL_KEEP: usize = 255;

/// A needle registered with [`OutputWatch::watch`].
#[derive(Clone, Copy, Debug)]
pub struct NeedleId(usize);

#[derive(Default)]
pub struct OutputWatch {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Bytes seen so far.
    total: u64,
    /// The last bytes seen, at most `TAIL_KEEP`.
    tail: Vec<u8>,
    needles: Vec<Needle>,
    closed: bool,
}

struct Needle {
    bytes: Vec<u8>,
    /// Only output from this offset on counts: a needle never matches old output.
    from: u64,
    seen: Option<Instant>,
}

impl OutputWatch {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts looking for `needle` (at most 256 bytes) in output that arrives from now on.
    pub fn watch(&self, needle: &[u8]) -> NeedleId {
        assert!(!needle.is_empty() && needle.len() <= TAIL_KEEP + 1);
        let mut st = self.lock();
        let from = st.total;
        st.needles.push(Needle {
            bytes: needle.to_vec(),
            from,
            seen: None,
        });
        NeedleId(st.needles.len() - 1)
    }

    /// Records a chunk read at `at` (the reader thread).
    pub fn feed(&self, chunk: &[u8], at: Instant) {
        let mut st = self.lock();
        let st = &mut *st;
        let window_start = st.total - st.tail.len() as u64;
        let mut found_any = false;
        if st.needles.iter().any(|n| n.seen.is_none()) {
            let mut window = std::mem::take(&mut st.tail);
            window.extend_from_slice(chunk);
            for needle in st.needles.iter_mut().filter(|n| n.seen.is_none()) {
                let skip = needle.from.saturating_sub(window_start) as usize;
                if skip < window.len() && find(&window[skip..], &needle.bytes).is_some() {
                    needle.seen = Some(at);
                    found_any = true;
                }
            }
            st.tail = window;
        } else {
            st.tail.extend_from_slice(chunk);
        }
        let excess = st.tail.len().saturating_sub(TAIL_KEEP);
        st.tail.drain(..excess);
        st.total += chunk.len() as u64;
        if found_any {
            self.changed.notify_all();
        }
    }

    /// The stream ended (the terminal's program is gone).
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// When the needle arrived; waits up to `timeout` for it.
    pub fn wait_seen(&self, id: NeedleId, timeout: Duration, what: &str) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if let Some(at) = st.needles[id.0].seen {
                return Ok(at);
            }
            if st.closed {
                bail!(
                    "{what}: the terminal closed before it appeared; its last output: {:?}",
                    String::from_utf8_lossy(&st.tail)
                );
            }
            let now = Instant::now();
            if now >= deadline {
                bail!("{what}: not seen within {:.0?}", timeout);
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// Where `needle` first occurs in `hay`: a scan for its first byte, then a compare.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut start = 0;
    while start + needle.len() <= hay.len() {
        let at = start
            + hay[start..=hay.len() - needle.len()]
                .iter()
                .position(|&b| b == first)?;
        if &hay[at + 1..at + needle.len()] == rest {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_needle_split_across_chunks() {
        let watch = OutputWatch::default();
        let id = watch.watch(b"END-MARK");
        let t0 = Instant::now();
        watch.feed(b"lots of output END-", t0);
        let t1 = Instant::now();
        watch.feed(b"MARK and more", t1);
        assert_eq!(watch.wait_seen(id, Duration::ZERO, "mark").unwrap(), t1);
    }

    #[test]
    fn a_needle_never_matches_output_from_before_it_was_watched() {
        let watch = OutputWatch::default();
        watch.feed(b"x", Instant::now());
        let id = watch.watch(b"x");
        assert!(watch.wait_seen(id, Duration::ZERO, "x").is_err());
        watch.feed(b"yx", Instant::now());
        assert!(watch.wait_seen(id, Duration::ZERO, "x").is_ok());
    }

    #[test]
    fn find_handles_edges() {
        assert_eq!(find(b"abc", b"abc"), Some(0));
        assert_eq!(find(b"aab", b"ab"), Some(1));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(find(b"xxa", b"ab"), None);
    }
}
