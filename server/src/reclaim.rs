//! Gives memory the server has freed back to the system once output calms down.
//!
//! glibc keeps what a program frees for its next allocations and returns it to the
//! system only from the top of a heap. Output waits in a session's log until the
//! shadow parser has read it, so a burst (16 MiB from `cat`) grows the heap by as
//! much; once parsed it is free but stays resident: an idle server measured 14.3
//! MiB after one such burst, 8.0 MiB after `malloc_trim`. Trimming walks every free
//! chunk, so it waits until the output of all sessions has been calm for a while,
//! and happens only after enough was freed to be worth it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// Freed bytes below this are not worth a trim.
const WORTH_RETURNING: u64 = 256 * 1024;
/// Output counts as calm when a window this long parsed at most...
const CALM_WINDOW: Duration = Duration::from_secs(1);
/// ...this much: a spinner or a ticking clock does not hold a trim back.
const CALM_BYTES: u64 = 64 * 1024;

/// Counts memory freed since the last trim; `run` trims when it is worth it. The
/// counts are rough (bytes parsed and later released from a log count twice): the
/// worst they do is an extra trim.
#[derive(Default)]
pub struct Reclaim {
    unreturned: AtomicU64,
    /// Output parsed ever, to tell a calm window from a busy one.
    parsed: AtomicU64,
    /// Signalled when `unreturned` reaches `WORTH_RETURNING`.
    due: Notify,
    /// Trims done, for the tests.
    trims: AtomicU64,
}

impl Reclaim {
    /// The parser consumed `bytes` of a session's output: once the log has more
    /// than it keeps for slow viewers, as much older output leaves it.
    pub fn parsed(&self, bytes: usize) {
        self.parsed.fetch_add(bytes as u64, Ordering::Relaxed);
        self.released(bytes);
    }

    /// A session was removed: its screen and history go when the last task
    /// holding it ends. Always worth a trim.
    pub fn session_removed(&self) {
        self.released(WORTH_RETURNING as usize);
    }

    /// `bytes` of memory were freed.
    pub fn released(&self, bytes: usize) {
        let bytes = bytes as u64;
        let before = self.unreturned.fetch_add(bytes, Ordering::Relaxed);
        if before < WORTH_RETURNING && before + bytes >= WORTH_RETURNING {
            // Stores a permit if `run` is not waiting yet: nothing is missed.
            self.due.notify_one();
        }
    }

    /// Trims after each spell of freeing, once output is calm. Sleeps on a
    /// notification in between, so an idle server does not wake for this.
    pub async fn run(self: Arc<Self>) {
        loop {
            self.due.notified().await;
            loop {
                let before = self.parsed.load(Ordering::Relaxed);
                tokio::time::sleep(CALM_WINDOW).await;
                if self.parsed.load(Ordering::Relaxed) - before <= CALM_BYTES {
                    break;
                }
            }
            self.unreturned.store(0, Ordering::Relaxed);
            // Milliseconds on a large heap, and it takes malloc's locks: not on
            // the I/O thread.
            let _ = tokio::task::spawn_blocking(return_free_memory).await;
            self.trims.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Returns the free pages of every malloc arena to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_free_memory() {
    // SAFETY: `malloc_trim` has no preconditions: it takes each arena's lock
    // itself, so it is safe from any thread at any time, and it only releases
    // pages inside free chunks (madvise), never memory anything still uses.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory on their own terms.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_free_memory() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lets the reclaimer's task (and its blocking trim) run until `cond` holds;
    /// false if it does not within 10 s of real time.
    async fn settles(reclaim: &Reclaim, cond: impl Fn(&Reclaim) -> bool) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if cond(reclaim) {
                return true;
            }
            tokio::task::yield_now().await;
        }
        false
    }

    fn trims(reclaim: &Reclaim) -> u64 {
        reclaim.trims.load(Ordering::Relaxed)
    }

    #[tokio::test(start_paused = true)]
    async fn one_trim_per_spell_of_freeing_once_output_calms() {
        let reclaim = Arc::new(Reclaim::default());
        // The threshold is crossed before the task first runs: not missed.
        reclaim.parsed(WORTH_RETURNING as usize);
        let task = tokio::spawn(reclaim.clone().run());

        // Output keeps flowing through the first window: no trim yet.
        tokio::time::sleep(CALM_WINDOW / 2).await;
        reclaim.parsed(CALM_BYTES as usize * 4);
        tokio::time::sleep(CALM_WINDOW).await;
        assert_eq!(trims(&reclaim), 0, "trimmed while output was still flowing");

        // A calm window: exactly one trim, and the count starts over.
        tokio::time::sleep(CALM_WINDOW * 2).await;
        assert!(settles(&reclaim, |r| trims(r) == 1).await);
        tokio::time::sleep(CALM_WINDOW * 5).await;
        assert_eq!(trims(&reclaim), 1, "trimmed again with nothing freed");

        // Freeing below the threshold waits; crossing it trims once more.
        reclaim.released(WORTH_RETURNING as usize / 2);
        tokio::time::sleep(CALM_WINDOW * 3).await;
        assert_eq!(trims(&reclaim), 1);
        reclaim.session_removed();
        tokio::time::sleep(CALM_WINDOW * 2).await;
        assert!(settles(&reclaim, |r| trims(r) == 2).await);
        task.abort();
    }
}
