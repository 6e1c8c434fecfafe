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

#[test]
fn a_client_watching_a_burst_sees_its_end_and_other_sessions_go_on() {
    // Attached first: during the burst the client gets a frame only now and then
    // (the rest is skipped by a redraw), and it must still end up with the end.
    let home = Home::new();
    home.spawn_shell("burst");
    let mut term = Term::attach_at_prompt(&home, "burst", 80, 24);
    term.type_str("head -c 4000000 /dev/zero | tr '\\0' x; echo; echo BURST-''END\r");
    term.wait_for_within(Duration::from_secs(60), "the end of the burst", |s| {
        s.contents().contains("BURST-END")
    });
    // The same goes for another session of the same server while this one floods.
    home.spawn_shell("beside");
    let flood = "while :; do head -c 1000000 /dev/zero | tr '\\0' y; done";
    home.ok(&["send", "burst", flood, "--key", "Enter"]);
    home.ok(&["send", "beside", "echo BESIDE-''OK", "--key", "Enter"]);
    home.wait_screen("beside", "BESIDE-OK");
}
