//! An idle session's screen is packed away and rebuilt when next needed: what
//! capture and attach show, and where further output lands, must not change.

use crate::harness::{wait_until, Home, Term};

/// Colours, a title, a saved cursor and bracketed paste, then a prompt; once a
/// line is read, it is printed back and the saved cursor is used.
const AGENT: &str = r#"printf '\033]2;agent title\007\033[?2004h'
printf '\033[1;31mred bold\033[0m plain \033[38;5;33mblue\033[m\n'
printf 'line two \342\234\223 \346\274\242\n'
printf '\033[5;10H\0337\033[8;1Hwaiting> '
read -r line
printf '\033[32mgot\033[m %s\n' "$line"
printf '\0338saved-spot'
exec cat"#;

fn capture_json(home: &Home, name: &str) -> serde_json::Value {
    serde_json::from_str(&home.ok(&["capture", name, "--json", "--ansi"])).expect("json")
}

#[test]
fn an_idle_session_packs_its_screen_and_nothing_shows_it() {
    let home = Home::new();
    // Debug logging names each packed screen: the test knows it happened.
    let spawned = home
        .command(&[
            "spawn", "--name", "agent", "--size", "80x24", "--", "bash", "-c", AGENT,
        ])
        .env("SYMP_LOG", "symp_server=debug,info")
        .output()
        .expect("spawn");
    assert!(spawned.status.success(), "{spawned:?}");
    home.wait_screen("agent", "waiting>");
    let before = capture_json(&home, "agent");

    let log = home.path().join("server.log");
    wait_until("the idle session's screen to be packed", || {
        std::fs::read_to_string(&log).is_ok_and(|log| {
            log.lines()
                .any(|l| l.contains("screen packed") && l.contains("agent"))
        })
    });
    assert_eq!(
        capture_json(&home, "agent"),
        before,
        "capture after packing"
    );

    // A read-only viewer of another size is drawn from the screen, clipped.
    let mut small = Term::symp(&home, &["attach", "agent", "--read-only"], 60, 20);
    small.wait_for_text("waiting>");
    small.with_screen(|s| {
        let red = s.cell(0, 0).expect("cell");
        assert!(red.bold() && red.fgcolor() == vt100::Color::Idx(1));
        assert!(
            s.contents().contains("line two \u{2713} \u{6f22}"),
            "{}",
            s.contents()
        );
    });
    small.type_bytes(b"\x1c");
    small.wait_for_text("[detached from agent]");
    assert_eq!(small.wait_exit(), 0);

    let mut term = Term::symp(&home, &["attach", "agent"], 80, 24);
    term.wait_for_text("waiting>");
    term.with_screen(|s| {
        let red = s.cell(0, 0).expect("cell");
        assert!(red.bold() && red.fgcolor() == vt100::Color::Idx(1));
        assert_eq!(
            s.cell(0, 15).expect("cell").fgcolor(),
            vt100::Color::Idx(33)
        );
        assert_eq!(s.cursor_position(), (7, 9));
    });
    term.type_str("hello\r");
    term.wait_for_text("saved-spot");
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from agent]");
    assert_eq!(term.wait_exit(), 0);

    // The saved cursor came through packing: `ESC 8` went back to row 5, column 10.
    let plain = home.ok(&["capture", "agent"]);
    let rows: Vec<&str> = plain.lines().collect();
    assert_eq!(rows.get(4), Some(&"         saved-spot"), "{plain}");
    assert_eq!(rows.get(7), Some(&"waiting> hello"), "{plain}");
    assert_eq!(rows.get(8), Some(&"got hello"), "{plain}");
    let after = capture_json(&home, "agent");
    assert_eq!(after["title"], "agent title");
    assert!(after["rows"][8]
        .as_str()
        .is_some_and(|row| row.contains("\x1b[32m")));
}
