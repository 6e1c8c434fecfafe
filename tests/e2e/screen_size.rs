//! Whose size the pty takes when clients differ, and what a client of another size sees.

use crate::harness::{python, script, wait_until, Home, Term};

fn pty_size(home: &Home, name: &str) -> (u64, u64) {
    let row = home.session(name);
    (
        row["cols"].as_u64().expect("cols"),
        row["rows"].as_u64().expect("rows"),
    )
}

fn wait_pty_size(home: &Home, name: &str, size: (u64, u64)) {
    wait_until(&format!("{name} at {}x{}", size.0, size.1), || {
        pty_size(home, name) == size
    });
}

#[test]
fn the_pty_size_follows_the_most_recently_active_interactive_client() {
    let home = Home::new();
    home.spawn_shell("sized");
    let mut wide = Term::attach_at_prompt(&home, "sized", 100, 30);
    wait_pty_size(&home, "sized", (100, 30));
    let mut narrow = Term::attach_at_prompt(&home, "sized", 70, 20);
    wait_pty_size(&home, "sized", (70, 20));

    // Typing makes a client the most recent: the program sees its size.
    wide.type_str("stty size\r");
    wide.wait_for_text("30 100");
    assert_eq!(pty_size(&home, "sized"), (100, 30));
    narrow.type_str("stty size\r");
    narrow.wait_for_text("20 70");
    assert_eq!(pty_size(&home, "sized"), (70, 20));

    // The leader leaving hands the size to the one left.
    drop(narrow);
    home.wait_clients("sized", 1);
    wait_pty_size(&home, "sized", (100, 30));
}

#[test]
fn a_read_only_viewer_never_changes_the_pty_size() {
    let home = Home::new();
    home.spawn_shell("fixed");
    let mut viewer = Term::symp(&home, &["attach", "fixed", "--read-only"], 120, 40);
    viewer.wait_for_text("$ ");
    home.wait_clients("fixed", 1);
    assert_eq!(pty_size(&home, "fixed"), (80, 24));

    // Its terminal changes size: it is redrawn for the new size, the pty stays.
    let before = viewer.raw().len();
    viewer.resize(100, 30);
    wait_until("a redraw for the new size", || viewer.raw().len() > before);
    viewer.type_bytes(b"\x1c");
    viewer.wait_for_text("[detached from fixed]");
    home.wait_clients("fixed", 0);
    assert_eq!(pty_size(&home, "fixed"), (80, 24));
}

/// 23 rows of exactly 80 distinct characters each, then (on a gate file) a change to row 1.
const FULL_ROWS: &str = r#"
import os, string, sys, time
def row(i, tag):
    return (tag + "%02d" % i + (string.ascii_letters + string.digits) * 2)[:80]
for i in range(1, 24):
    sys.stdout.write(row(i, "") + "\r\n")
sys.stdout.flush()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
sys.stdout.write("\x1b[1;1H" + row(1, "NEW-") + "\x1b[24;1H")
sys.stdout.flush()
time.sleep(1000)
"#;

fn row(i: usize, tag: &str) -> String {
    let alphabet = format!(
        "{}{}",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
    );
    format!("{tag}{i:02}{alphabet}{alphabet}")[..80].to_owned()
}

/// The picture a `cols` x `rows` client should show: the top-left of the session's.
fn clipped(first_tag: &str, cols: usize, rows: usize) -> String {
    (1..=23)
        .take(rows)
        .map(|i| {
            let full = row(i, if i == 1 { first_tag } else { "" });
            full[..cols.min(80)].to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn smaller_and_larger_clients_see_the_picture_clipped_and_padded() {
    let home = Home::new();
    let app = script(&home, "rows.py", FULL_ROWS);
    let gate = home.path().join("gate");
    home.spawn(
        "rows",
        &[
            python(),
            app.to_str().expect("utf8"),
            gate.to_str().expect("utf8"),
        ],
    );
    home.wait_screen("rows", "\n23");
    // Read-only, so neither takes the pty to its own size.
    let small = Term::symp(&home, &["attach", "rows", "--read-only"], 40, 10);
    let large = Term::symp(&home, &["attach", "rows", "--read-only"], 100, 30);
    small.wait_for("the clipped picture", |s| {
        s.contents() == clipped("", 40, 10)
    });
    large.wait_for("the padded picture", |s| {
        s.contents() == clipped("", 80, 30)
    });
    assert_eq!(pty_size(&home, "rows"), (80, 24));

    // Changes arrive clipped too.
    std::fs::write(&gate, "").expect("gate");
    small.wait_for("the clipped change", |s| {
        s.contents() == clipped("NEW-", 40, 10)
    });
    large.wait_for("the padded change", |s| {
        s.contents() == clipped("NEW-", 80, 30)
    });
    large.with_screen(|s| assert_eq!(s.cursor_position(), (23, 0)));
}
