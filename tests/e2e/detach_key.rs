//! The detach key: one press detaches, two presses send one literal byte, and
//! `--detach-key` picks another key.

use crate::harness::{python, script, Home, Term};

/// Prints the hex of every chunk of raw input it reads.
const KEY_ECHO: &str = r#"
import os, tty
tty.setraw(0)
os.write(1, b"ready\r\n")
while True:
    data = os.read(0, 1024)
    if not data:
        break
    os.write(1, b"got " + data.hex().encode() + b"\r\n")
"#;

fn spawn_key_echo(home: &Home) {
    let echo = script(home, "keys.py", KEY_ECHO);
    home.spawn("keys", &[python(), echo.to_str().expect("utf8")]);
}

/// The `got ...` lines in the terminal (its scrollback too), in order.
fn received(term: &Term) -> Vec<String> {
    let mut lines = term.scrollback_lines();
    lines.extend(term.text().lines().map(str::to_owned));
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("got "))
        .map(|hex| hex.trim().to_owned())
        .collect()
}

fn expect_detach(term: &mut Term, home: &Home) {
    term.wait_for_text("[detached from keys]");
    assert_eq!(term.wait_exit(), 0);
    assert_eq!(home.session("keys")["status"], "running");
}

#[test]
fn pressing_the_detach_key_twice_sends_one_literal_byte() {
    let home = Home::new();
    spawn_key_echo(&home);
    let mut term = Term::symp(&home, &["attach", "keys"], 80, 24);
    term.wait_for_text("ready");
    term.type_bytes(b"\x1c");
    term.type_bytes(b"\x1c");
    term.wait_for_text("got 1c");
    // A later key shows the pair produced exactly one byte and nothing else.
    term.type_str("z");
    term.wait_for_text("got 7a");
    assert_eq!(received(&term).concat(), "1c7a");
    assert!(term.is_running(), "the double press detached");
}

#[test]
fn pressing_the_detach_key_once_detaches_and_sends_nothing() {
    let home = Home::new();
    spawn_key_echo(&home);
    let mut term = Term::symp(&home, &["attach", "keys"], 80, 24);
    term.wait_for_text("ready");
    term.type_str("a");
    term.wait_for_text("got 61");
    term.type_bytes(b"\x1c");
    expect_detach(&mut term, &home);
    assert_eq!(received(&term), ["61"]);

    // The program never saw the key: a fresh attach shows only what it got before.
    let again = Term::symp(&home, &["attach", "keys"], 80, 24);
    again.wait_for_text("got 61");
    assert_eq!(received(&again), ["61"]);
}

#[test]
fn a_custom_detach_key_detaches_and_ctrl_backslash_becomes_an_ordinary_key() {
    let home = Home::new();
    spawn_key_echo(&home);
    let mut term = Term::symp(&home, &["attach", "keys", "--detach-key", "C-a"], 80, 24);
    term.wait_for_text("ready");
    term.type_bytes(b"\x1c");
    term.wait_for_text("got 1c");
    term.type_bytes(b"\x01");
    expect_detach(&mut term, &home);
    assert_eq!(received(&term), ["1c"]);
}
