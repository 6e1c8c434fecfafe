//! Attaching: the picture, detach and reattach, the program ending.

use crate::harness::{wait_until, Home, Term, SYMP};

#[test]
fn attach_shows_the_screen_and_detach_restores_the_terminal() {
    let home = Home::new();
    home.spawn_shell("demo");
    let mut term = Term::attach_at_prompt(&home, "demo", 80, 24);
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

#[test]
fn detach_then_reattach_shows_the_same_screen() {
    let home = Home::new();
    home.spawn_shell("same");
    let mut first = Term::attach_at_prompt(&home, "same", 80, 24);
    first.type_str("clear; printf '\\033[4;10H\\033[7mboxed\\033[0m\\033[33m yellow\\033[0m\\n'\r");
    first.wait_for("the output and the next prompt", |s| {
        s.contents().contains("boxed yellow") && s.contents().ends_with("$ ")
    });
    let (text, cursor) = first.with_screen(|s| (s.contents(), s.cursor_position()));
    first.type_bytes(b"\x1c");
    first.wait_for_text("[detached from same]");
    assert_eq!(first.wait_exit(), 0);

    let second = Term::symp(&home, &["attach", "same"], 80, 24);
    second.wait_for("the same text as before", |s| s.contents() == text);
    second.with_screen(|s| {
        assert_eq!(s.cursor_position(), cursor);
        let row = s
            .rows(0, 80)
            .position(|r| r.contains("boxed"))
            .expect("row");
        let boxed = s.cell(row as u16, 9).expect("cell");
        assert_eq!(boxed.contents(), "b");
        assert!(boxed.inverse());
        let yellow = s.cell(row as u16, 15).expect("cell");
        assert_eq!(yellow.contents(), "y");
        assert_eq!(yellow.fgcolor(), vt100::Color::Idx(3));
    });
}

#[test]
fn the_client_says_so_and_exits_0_when_the_program_exits_while_attached() {
    let home = Home::new();
    home.spawn("brief", &["bash", "-c", "echo waiting; read line; exit 7"]);
    let mut term = Term::symp(&home, &["attach", "brief"], 80, 24);
    term.wait_for_text("waiting");
    term.type_str("\r");
    term.wait_for_text("[brief exited with status 7]");
    assert_eq!(term.wait_exit(), 0);
    term.with_screen(|s| {
        assert!(!s.hide_cursor());
        assert!(!s.alternate_screen());
    });
    let row = home.session("brief");
    assert_eq!(row["status"], "exited");
    assert_eq!(row["exit_code"], 7);
}

#[test]
fn a_session_idle_after_printing_a_lot_attaches_and_streams_on() {
    let home = Home::new();
    // Over 512 KiB printed with nobody watching, then quiet: the session turns idle
    // and lets go of the output its log kept for slow viewers.
    home.spawn(
        "printed",
        &["bash", "-c", "seq 1 200000; echo printed-all; exec cat"],
    );
    home.wait_screen("printed", "printed-all");
    wait_until("the session to turn idle", || {
        home.session("printed")["activity"] == "idle"
    });

    let mut term = Term::symp(&home, &["attach", "printed"], 80, 24);
    term.wait_for_text("printed-all");
    term.with_screen(|s| assert!(s.contents().contains("200000"), "{}", s.contents()));
    term.type_str("after-idle\r");
    term.wait_for("the typed line, echoed and printed back", |s| {
        s.contents().matches("after-idle").count() == 2
    });
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from printed]");
    assert_eq!(term.wait_exit(), 0);
}

#[test]
fn a_detach_gives_back_the_whole_screen_to_scroll_in() {
    let home = Home::new();
    // A scroll region over the top 20 rows, as apt's progress bar sets one.
    home.spawn(
        "apt",
        &[
            "sh",
            "-c",
            "echo READY; read x; printf '\\033[1;20rSET\\n'; exec sleep 1000",
        ],
    );
    let script = format!(
        "'{}' attach apt; for i in $(seq 1 40); do echo line-$i; done; exec sleep 100",
        crate::harness::SYMP
    );
    let mut term = Term::run(Term::command(&home, "sh", &["-c", &script]), 80, 24);
    term.wait_for_text("READY");
    home.wait_clients("apt", 1);
    term.type_bytes(b"\r");
    term.wait_for_text("SET");
    term.type_bytes(b"\x1c");
    term.wait_for_text("line-40");
    // Scrolling the whole screen, the lines before the last stay in view.
    assert!(term.text().contains("line-39"), "{}", term.text());
}

/// Attaching to a session from inside it would draw its picture into its own
/// terminal, to come back as its output for ever: refused, in one line, and the
/// session goes on.
#[test]
fn attaching_to_a_session_from_inside_it_is_refused() {
    let home = Home::new();
    home.spawn(
        "inner",
        &[
            "sh",
            "-c",
            "\"$0\" attach inner; echo \"attach exited $?\"; exec cat",
            SYMP,
        ],
    );
    home.wait_screen("inner", "attach exited 1");
    let screen = home.ok(&["capture", "inner"]);
    assert!(
        screen.contains("symp: cannot attach to session inner from inside it"),
        "no refusal on the screen:\n{screen}"
    );
    assert_eq!(home.session("inner")["status"], "running");
}

/// `SYMP_SESSION` alone (copied into another terminal's environment) refuses
/// nothing: only the session's own terminal is inside it.
#[test]
fn a_session_name_in_the_environment_alone_does_not_refuse_an_attach() {
    let home = Home::new();
    home.spawn("elsewhere", &["sh", "-c", "echo shown-outside; exec cat"]);
    let mut cmd = Term::command(&home, SYMP, &["attach", "elsewhere"]);
    cmd.env("SYMP_SESSION", "elsewhere");
    let mut term = Term::run(cmd, 80, 24);
    term.wait_for_text("shown-outside");
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from elsewhere]");
    assert_eq!(term.wait_exit(), 0);
}
