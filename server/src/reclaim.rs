//! Gives memory the server has freed back to the system once output calms down.
//!
//! glibc keeps what a program frees for its next allocations and returns it to the
//! system only from the top of a heap. Output waits in a session's log until the
//! shadow parser has read it, so a burst (16 MiB from `cat`) grows the heap by as
//! much; once parsed it is free but stays resident: an idle server measured 14.3
//! MiB after one such burst, 8.0 MiB after `malloc_trim`. Trimming walks every free
//! chunk, so it waits until the output of all sessions has been calm for a while,
//! and happens only after enough was freed to be worth it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// Freed bytes below this are not worth a trim.
const WORTH_RETURNING: usize = 256 * 1024;
/// Output counts as calm when a window this long parsed at most...
const CALM_WINDOW: Duration = Duration::from_secs(1);
/// ...this much: a spinner or a ticking clock does not hold a trim back.
const CALM_BYTES: u64 = 64 * 1024;

/// Counts memory freed since the last trim; `run` trims when it is worth it.
#[derive(Default)]
pub struct Reclaim {
    unreturned: AtomicUsize,
    /// Output parsed ever, to tell a calm window from a busy one.
    parsed: AtomicU64,
    /// Signalled when `unreturned` reaches `WORTH_RETURNING`.
    due: Notify,
}

impl Reclaim {
    /// The parser consumed `bytes` of a session's output: as much older output
    /// leaves its log (which keeps only the newest for slow viewers).
    pub fn parsed(&self, bytes: usize) {
        self.parsed.fetch_add(bytes as u64, Ordering::Relaxed);
        self.released(bytes);
    }

    /// A session was removed: its screen and history go when the last task
    /// holding it ends. Always worth a trim.
    pub fn session_removed(&self) {
        self.released(WORTH_RETURNING);
    }

    /// `bytes` of memory were freed.
    pub fn released(&self, bytes: usize) {
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

    #[tokio::test(start_paused = true)]
    async fn trims_once_enough_was_freed_and_output_calmed() {
        let reclaim = Arc::new(Reclaim::default());
        let task = tokio::spawn(reclaim.clone().run());
        reclaim.parsed(WORTH_RETURNING / 2);
        tokio::task::yield_now().await;
        assert_eq!(
            reclaim.unreturned.load(Ordering::Relaxed),
            WORTH_RETURNING / 2
        );

        // Crossing the threshold starts a calm window; output during it defers the trim.
        reclaim.parsed(WORTH_RETURNING);
        tokio::time::sleep(CALM_WINDOW / 2).await;
        reclaim.parsed(CALM_BYTES as usize * 4);
        tokio::time::sleep(CALM_WINDOW).await;
        assert!(
            reclaim.unreturned.load(Ordering::Relaxed) > WORTH_RETURNING,
            "trimmed while output was still flowing"
        );

        // A calm window: trimmed, the count starts over.
        tokio::time::sleep(CALM_WINDOW * 2).await;
        for _ in 0..100 {
            if reclaim.unreturned.load(Ordering::Relaxed) == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(reclaim.unreturned.load(Ordering::Relaxed), 0);
        task.abort();
    }
}
