//! Full-screen programs on the alternate screen: the picture survives detach and
//! reattach, and detaching puts the local terminal back on its main screen.

use std::path::Path;

use crate::harness::{python, script, Home, Term};

/// Draws on the alternate screen with the cursor hidden, then waits.
const ALT_SCREEN_APP: &str = r#"
import sys, time
sys.stdout.write("before the app\r\n\x1b[?1049h\x1b[?25l\x1b[2J\x1b[H")
sys.stdout.write("FULL SCREEN APP\x1b[10;5Hbox here")
sys.stdout.flush()
time.sleep(1000)
"#;

fn detach(term: &mut Term, name: &str) {
    term.type_bytes(b"\x1c");
    term.wait_for_text(&format!("[detached from {name}]"));
    assert_eq!(term.wait_exit(), 0);
    term.with_screen(|s| {
        assert!(!s.alternate_screen(), "still on the alternate screen");
        assert!(!s.hide_cursor(), "cursor left hidden");
    });
}

#[test]
fn an_alternate_screen_program_survives_reattach_and_detach_restores_the_main_screen() {
    let home = Home::new();
    let app = script(&home, "app.py", ALT_SCREEN_APP);
    home.spawn("app", &[python(), app.to_str().expect("utf8")]);

    let mut term = Term::symp(&home, &["attach", "app"], 80, 24);
    term.wait_for_text("box here");
    term.with_screen(|s| {
        assert!(s.alternate_screen());
        assert!(s.hide_cursor());
        assert_eq!(s.rows(0, 80).nth(9).expect("row 10"), "    box here");
    });
    detach(&mut term, "app");
    assert!(!term.text().contains("FULL SCREEN APP"));

    let mut again = Term::symp(&home, &["attach", "app"], 80, 24);
    again.wait_for_text("box here");
    again.with_screen(|s| {
        assert!(s.alternate_screen());
        assert!(s.hide_cursor());
        assert_eq!(s.rows(0, 80).next().expect("row 1"), "FULL SCREEN APP");
        assert_eq!(s.rows(0, 80).nth(9).expect("row 10"), "    box here");
    });
    detach(&mut again, "app");
}

#[test]
fn vim_survives_reattach_and_detach_restores_the_main_screen() {
    if !Path::new("/usr/bin/vim").exists() {
        eprintln!("skipped: /usr/bin/vim is not installed");
        return;
    }
    let home = Home::new();
    let file = home.path().join("notes.txt");
    std::fs::write(&file, "hello from vim\n").expect("write");
    home.spawn(
        "editor",
        &[
            "/usr/bin/vim",
            "-u",
            "NONE",
            "-N",
            "-n",
            file.to_str().expect("utf8"),
        ],
    );

    let mut term = Term::symp(&home, &["attach", "editor"], 80, 24);
    term.wait_for_text("hello from vim");
    term.type_str("Ofresh line\x1b");
    term.wait_for_text("fresh line");
    let picture = term.text();
    assert!(term.with_screen(|s| s.alternate_screen()));
    detach(&mut term, "editor");
    assert!(!term.text().contains("hello from vim"));

    let mut again = Term::symp(&home, &["attach", "editor"], 80, 24);
    again.wait_for("vim's picture", |s| s.contents() == picture);
    assert!(again.with_screen(|s| s.alternate_screen()));
    again.type_str("ddu");
    again.wait_for("the undone delete", |s| {
        let rows: Vec<String> = s
            .rows(0, 80)
            .take(2)
            .map(|r| r.trim_end().to_owned())
            .collect();
        rows == ["fresh line", "hello from vim"] && s.contents().contains("1 more line")
    });
    detach(&mut again, "editor");
}
