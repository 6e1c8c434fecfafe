//! A client that stops reading (a frozen terminal) never slows the program or
//! grows the server; when it reads again it is resynchronised to the current screen.

use std::time::{Duration, Instant};

use crate::harness::{Home, Term};
use crate::procfs;

/// The 50 MB: far more than every buffer on the way (pty, socket, the
/// server's 512 KiB output ring, the parser's 16 MiB lag bound). The workspace
/// builds vt100 optimised even in dev, so a debug server takes it in seconds.
const VOLUME: usize = 50_000_000;
/// Resident memory the server may use while doing it.
const MAX_SERVER_RSS_KIB: u64 = 200 * 1024;
/// Generous: a debug server, and this test's own terminal, parse a few MB/s on a
/// loaded machine.
const FLOOD_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn a_frozen_viewer_neither_blocks_the_program_nor_grows_the_server() {
    let home = Home::new();
    let gate = home.path().join("gate");
    let done = home.path().join("done");
    let script = format!(
        "while [ ! -e {gate} ]; do sleep 0.01; done; \
         head -c {VOLUME} /dev/zero | tr '\\0' x; printf '\\r\\nFINAL-MARKER\\r\\n'; \
         touch {done}; exec sleep 1000",
        gate = gate.display(),
        done = done.display(),
    );
    home.spawn("flood", &["bash", "-c", &script]);

    let frozen = Term::symp(&home, &["attach", "flood", "--read-only"], 80, 24);
    home.wait_clients("flood", 1);
    frozen.pause_reading();
    let live = Term::symp(&home, &["attach", "flood", "--read-only"], 80, 24);
    home.wait_clients("flood", 2);
    let server = home.server_pid().expect("server");

    std::fs::write(&gate, "").expect("gate");
    let started = Instant::now();
    let mut max_rss = 0;
    while !done.exists() {
        max_rss = max_rss.max(procfs::rss_kib(server).expect("server rss"));
        assert!(
            started.elapsed() < FLOOD_TIMEOUT,
            "the program did not finish printing within {FLOOD_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "printed {VOLUME} bytes in {:?}; server peak RSS {max_rss} KiB",
        started.elapsed()
    );
    live.wait_for_within(FLOOD_TIMEOUT, "the final marker", |s| {
        s.contents().ends_with("\nFINAL-MARKER") && s.cursor_position() == (23, 0)
    });
    max_rss = max_rss.max(procfs::rss_kib(server).expect("server rss"));
    assert!(
        max_rss < MAX_SERVER_RSS_KIB,
        "server RSS reached {max_rss} KiB"
    );
    assert_eq!(
        home.session("flood")["clients"],
        2,
        "the frozen client was dropped"
    );

    // Reading again, the frozen terminal catches up with the screen as it is now.
    frozen.resume_reading();
    let picture = live.text();
    frozen.wait_for_within(FLOOD_TIMEOUT, "the live viewer's picture", |s| {
        s.contents() == picture
    });
}
