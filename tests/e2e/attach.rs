//! Attaching: the picture, detach and reattach, the program ending.

use crate::harness::{Home, Term};

#[test]
fn attach_shows_the_screen_and_detach_restores_the_terminal() {
    let home = Home::new();
    home.spawn_shell("demo");
    let mut term = Term::symp(&home, &["attach", "demo"], 80, 24);
    term.wait_for_text("$ ");
    term.type_str("printf '\\033[1;31mhot\\033[0m %s\\n' done\r");
    term.wait_for_text("hot done");
    term.with_screen(|s| {
        let row = s
            .rows(0, 80)
            .position(|r| r.starts_with("hot done"))
            .expect("row");
        let cell = s.cell(row as u16, 0).expect("cell");
        assert!(cell.bold());
        assert_eq!(cell.fgcolor(), vt100::Color::Idx(1));
    });
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from demo]");
    assert_eq!(term.wait_exit(), 0);
    term.with_screen(|s| {
        assert!(!s.hide_cursor());
        assert!(!s.alternate_screen());
        assert!(!s.bracketed_paste());
    });
    assert_eq!(home.session("demo")["status"], "running");

    let again = Term::symp(&home, &["attach", "demo"], 80, 24);
    again.wait_for_text("hot done");
}
