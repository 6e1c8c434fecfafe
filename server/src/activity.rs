//! Busy or idle: a session is idle when its picture has not changed for the quiet
//! period. Output that redraws the same picture does not count; a spinner or a
//! ticking timer does (the agent is working). Emits `busy` and `idle` events; an
//! idle session packs its screen, and if nobody watches lets go of the output it
//! kept for slow viewers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::events::{now_ms, EventKind};
use crate::session::Session;

/// Output bursts are looked at no more often than this, so a fast stream costs a
/// few screen hashes per second, not one per chunk.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

pub async fn monitor(session: Arc<Session>, idle_after: Duration) {
    // The picture is the shadow screen's, so follow the parser, not the raw output.
    let mut parsed = session.log.subscribe_parsed();
    let mut status = session.watch_status();
    let mut last_picture = picture_hash(&session).await;
    let mut last_change = Instant::now();
    let mut idle = false;
    loop {
        let quiet_until = last_change + idle_after;
        tokio::select! {
            changed = parsed.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(SAMPLE_INTERVAL).await;
                if !session.status().is_running() {
                    // `exited` is the last word; no busy/idle after it.
                    session.request_pack();
                    return;
                }
                parsed.borrow_and_update();
                let picture = picture_hash(&session).await;
                if picture != last_picture {
                    last_picture = picture;
                    last_change = Instant::now();
                    session.last_change_ms.store(now_ms(), Ordering::Relaxed);
                    if idle {
                        idle = false;
                        session.idle.store(false, Ordering::Relaxed);
                        session.bus.emit(session.name(), EventKind::Busy);
                    }
                } else if idle {
                    // Still idle, redrawing the same picture (a status line, a
                    // prompt repainted): that output is not kept either, and
                    // the screen it woke goes back to being packed.
                    session.release_unwatched_output();
                    session.request_pack();
                }
            }
            () = tokio::time::sleep_until(quiet_until), if !idle => {
                idle = true;
                session.idle.store(true, Ordering::Relaxed);
                session.bus.emit(session.name(), EventKind::Idle);
                session.release_unwatched_output();
                session.request_pack();
            }
            () = crate::session::ended(&mut status) => {
                // An ended session's screen stays for `capture` and `attach`.
                session.request_pack();
                return;
            }
        }
    }
}

/// The picture's hash. Taken on a blocking thread when the parser holds the screen:
/// under a flood it holds it for a batch at a time (milliseconds), and the I/O
/// thread waiting for it ten times a second held up every session's output and
/// echoes (p99 echo beside a flooding session 31 ms, see BENCHMARKS.md).
async fn picture_hash(session: &Arc<Session>) -> u64 {
    if let Some(shadow) = session.try_shadow() {
        return shadow.picture_hash();
    }
    let session = session.clone();
    tokio::task::spawn_blocking(move || session.shadow().picture_hash())
        .await
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_idle_session_repainting_the_same_picture_keeps_no_old_output() {
        // 1 KiB of the same line, 50 times a second: idle, yet writing.
        let repaint = r#"line=$(printf 'x%.0s' $(seq 1024)); while :; do printf '\r%s' "$line"; sleep 0.02; done"#;
        let (session, _transcripts) = crate::session::spawn_for_test(&["sh", "-c", repaint]);
        tokio::spawn(monitor(session.clone(), Duration::from_millis(300)));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !session.idle.load(Ordering::Relaxed) {
            assert!(Instant::now() < deadline, "never turned idle");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A second idle: about 50 KiB more, all of the same picture.
        let parsed_at_idle = session.log.parsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(session.log.parsed() > parsed_at_idle + 16 * 1024);
        assert!(
            session.log.kept_parsed() < 16 * 1024,
            "kept {} bytes of repaints",
            session.log.kept_parsed()
        );
        session
            .terminate(Some(nix::sys::signal::Signal::SIGKILL))
            .await;
    }
}
