//! Several clients on one session: everyone sees the same thing, only interactive
//! clients type, and read-only viewers change nothing.

use symp_protocol::{ClientMsg, ServerMsg, Size};

use crate::harness::{wait_until, Home, Term};
use crate::wire::Wire;

/// True when the screen has a line that is exactly `line` (output, not the typed command).
fn has_line(term: &Term, line: &str) -> bool {
    term.text().lines().any(|l| l.trim_end() == line)
}

#[test]
fn two_interactive_clients_and_a_read_only_viewer_see_the_same_text() {
    let home = Home::new();
    home.spawn_shell("shared");
    let mut a = Term::attach_at_prompt(&home, "shared", 80, 24);
    let mut b = Term::attach_at_prompt(&home, "shared", 80, 24);
    let viewer = Term::symp(&home, &["attach", "shared", "--read-only"], 80, 24);
    viewer.wait_for_text("$ ");
    home.wait_clients("shared", 3);
    assert_eq!(home.session("shared")["read_only_clients"], 1);

    a.type_str("echo from-$((6*7))-a\r");
    b.type_str("echo from-$((6*7))-b\r");
    for term in [&a, &b, &viewer] {
        wait_until("both outputs on every client", || {
            has_line(term, "from-42-a") && has_line(term, "from-42-b")
        });
    }
    wait_until("identical screens", || {
        let text = a.text();
        b.text() == text && viewer.text() == text
    });
}

#[test]
fn a_read_only_viewers_keystrokes_never_reach_the_program() {
    let home = Home::new();
    home.spawn_shell("guarded");
    let mut a = Term::attach_at_prompt(&home, "guarded", 80, 24);
    let mut viewer = Term::symp(&home, &["attach", "guarded", "--read-only"], 80, 24);
    viewer.wait_for_text("$ ");
    viewer.type_str("echo leaked-$((1+1))\r");
    // Detaching goes through the same key stream, so the keys above were handled first.
    viewer.type_bytes(b"\x1c");
    viewer.wait_for_text("[detached from guarded]");
    assert_eq!(viewer.wait_exit(), 0);
    home.wait_clients("guarded", 1);

    a.type_str("echo marker-$((2+2))\r");
    wait_until("the marker", || has_line(&a, "marker-4"));
    assert!(!a.text().contains("leaked"), "{}", a.text());
}

#[test]
fn the_server_drops_input_from_a_read_only_connection() {
    let home = Home::new();
    home.spawn_shell("guarded");
    // A hand-made client that claims read-only, then types anyway.
    let mut wire = Wire::hello(&home);
    wire.send(&ClientMsg::Attach {
        name: "guarded".into(),
        read_only: true,
        size: Size { cols: 80, rows: 24 },
    });
    assert!(matches!(wire.recv(), Some(ServerMsg::Snapshot(_))));
    wire.send(&ClientMsg::Input(b"echo leaked-$((1+1))\r".to_vec()));
    wire.send(&ClientMsg::Detach);
    home.wait_clients("guarded", 0);

    let mut a = Term::attach_at_prompt(&home, "guarded", 80, 24);
    a.type_str("echo marker-$((2+2))\r");
    wait_until("the marker", || has_line(&a, "marker-4"));
    assert!(!a.text().contains("leaked"), "{}", a.text());
}
