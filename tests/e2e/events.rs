//! `symp events`: one JSON object per line, as things happen.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::{Home, Term, TIMEOUT};

/// An `events --json` reader whose lines arrive on a channel.
struct EventReader {
    child: Child,
    lines: mpsc::Receiver<serde_json::Value>,
}

impl EventReader {
    fn start(home: &Home, name: Option<&str>) -> Self {
        let mut args = vec!["events", "--json"];
        args.extend(name);
        let mut child = home
            .command(&args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("events");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value =
                    serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Events flow from the moment the reader subscribes, which we cannot see from
    /// outside: spawn short-lived probes until one's `spawned` event comes through.
    fn wait_until_subscribed(&self, home: &Home) {
        let deadline = std::time::Instant::now() + TIMEOUT;
        for n in 0.. {
            assert!(
                std::time::Instant::now() < deadline,
                "the events reader never subscribed"
            );
            let probe = format!("probe-{n}");
            home.spawn(&probe, &["true"]);
            while let Ok(event) = self.lines.recv_timeout(Duration::from_millis(200)) {
                if event["session"] == probe.as_str() && event["event"] == "spawned" {
                    return;
                }
            }
        }
    }

    /// The next event of `kind` for `session`, skipping others.
    fn expect(&self, session: &str, kind: &str) -> serde_json::Value {
        loop {
            let event = self
                .lines
                .recv_timeout(TIMEOUT)
                .unwrap_or_else(|_| panic!("no {kind} event for {session}"));
            if event["session"] == session && event["event"] == kind {
                assert!(event["time_ms"].as_u64().is_some_and(|t| t > 0));
                return event;
            }
        }
    }
}

impl Drop for EventReader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn events_follow_a_session_from_spawn_to_removal() {
    let home = Home::new();
    home.ok(&["server", "start"]);
    let events = EventReader::start(&home, None);
    events.wait_until_subscribed(&home);

    home.spawn_shell("ev");
    let spawned = events.expect("ev", "spawned");
    assert_eq!(spawned["command"][0], "bash");
    let mut term = Term::symp(&home, &["attach", "ev"], 100, 30);
    let attached = events.expect("ev", "attached");
    assert_eq!(attached["read_only"], false);
    let resized = events.expect("ev", "resized");
    assert_eq!(
        (resized["cols"].as_u64(), resized["rows"].as_u64()),
        (Some(100), Some(30))
    );
    term.wait_for_text("$ ");
    term.type_str("printf '\\033]2;busy agent\\007\\a'\r");
    assert_eq!(events.expect("ev", "title")["title"], "busy agent");
    events.expect("ev", "bell");
    term.type_bytes(b"\x1c");
    term.wait_exit();
    events.expect("ev", "detached");
    home.ok(&["send", "ev", "exit 3", "--enter"]);
    let exited = events.expect("ev", "exited");
    assert_eq!(exited["status"], "exited");
    assert_eq!(exited["code"], 3);
    home.ok(&["rm", "ev"]);
    events.expect("ev", "removed");
}

#[test]
fn events_can_be_filtered_by_session_and_idle_follows_busy() {
    let home = Home::new();
    home.spawn_shell("a");
    let events = EventReader::start(&home, Some("a"));
    // Subscribed once something about `a` arrives: its first idle, or a busy/idle
    // pair from typing into it.
    let first = events.lines.recv_timeout(TIMEOUT).expect("an event for a");
    assert_eq!(first["session"], "a");
    if first["event"] != "idle" {
        events.expect("a", "idle");
    }
    home.spawn("b", &["true"]);
    home.ok(&["send", "a", "echo hello", "--enter"]);
    events.expect("a", "busy");
    events.expect("a", "idle");
    // Nothing about `b` came through the filter.
    while let Ok(event) = events.lines.recv_timeout(Duration::from_millis(100)) {
        assert_eq!(event["session"], "a");
    }
}

#[test]
fn a_reader_that_never_reads_blocks_nobody() {
    let home = Home::new();
    // stdout is a pipe nobody drains: once it is full the reader stops reading.
    let mut stuck = home
        .command(&["events", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("events");
    home.spawn("noisy", &["bash", "-c", "for i in $(seq 1 3000); do printf '\\033]2;t%s\\007' $i; sleep 0.001; done; echo finished"]);
    home.ok(&["wait", "noisy", "--exit", "--timeout", "30"]);
    assert!(home.ok(&["capture", "noisy"]).contains("finished"));
    home.spawn("other", &["true"]);
    home.ok(&["wait", "other", "--exit", "--timeout", "10"]);
    let _ = stuck.kill();
    let _ = stuck.wait();
}

#[test]
fn events_for_an_unknown_session_is_an_error() {
    let home = Home::new();
    let out = home.run(&["events", "ghost"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session named ghost"));
}
