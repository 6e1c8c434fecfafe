//! The server reads output faster than it parses it into the screen: what looks at
//! the screen must still see the end of a burst once it is parsed.

use std::time::{Duration, Instant};

use crate::harness::{Home, Term};

/// A burst big enough that the debug server's parser lags well behind its reader.
const BURST: &str =
    "head -c 4000000 /dev/zero | tr '\\0' x; printf '\\r\\nBURST-END\\r\\n'; exec sleep 1000";

#[test]
fn an_attaching_client_sees_the_end_of_a_burst() {
    let home = Home::new();
    home.spawn("burst", &["bash", "-c", BURST]);
    let term = Term::symp(&home, &["attach", "burst"], 80, 24);
    term.wait_for_within(Duration::from_secs(60), "the end of the burst", |s| {
        s.contents().contains("BURST-END")
    });
}

#[test]
fn wait_match_sees_the_end_of_a_burst() {
    let home = Home::new();
    home.spawn("burst", &["bash", "-c", BURST]);
    let started = Instant::now();
    let out = home.run(&["wait", "burst", "--match", "BURST-END", "--timeout", "20"]);
    assert!(
        out.status.success(),
        "wait --match gave up after {:?}: {}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
}
