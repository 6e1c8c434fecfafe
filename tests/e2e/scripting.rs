//! Driving sessions without a terminal: send, capture, wait, list activity.

use std::process::Output;

use crate::harness::{wait_until, Home};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn python_repl(home: &Home, name: &str) {
    home.spawn(name, &["python3", "-q", "-i"]);
    home.ok(&["wait", name, "--match", "^>>> ", "--timeout", "10"]);
}

#[test]
fn a_python_repl_is_driven_by_send_wait_and_capture() {
    let home = Home::new();
    python_repl(&home, "py");
    home.ok(&["send", "py", "6 * 7", "--enter"]);
    home.ok(&["wait", "py", "--match", "^42$", "--timeout", "10"]);

    // A multi-line definition goes in as one paste, then a call uses it.
    home.ok(&[
        "send",
        "py",
        "--paste",
        "def triple(x):\n    return x * 3\n",
        "--enter",
    ]);
    home.ok(&["send", "py", "triple(14)", "--enter"]);
    home.ok(&[
        "wait",
        "py",
        "--match",
        "^42$[\\s\\S]*^42$",
        "--timeout",
        "10",
    ]);
    let screen = home.ok(&["capture", "py"]);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines.contains(&">>> triple(14)"), "{screen}");
    assert_eq!(lines.iter().filter(|l| **l == "42").count(), 2, "{screen}");
}

#[test]
fn bash_readline_gets_keys_in_the_encoding_it_expects() {
    let home = Home::new();
    home.spawn_shell("sh");
    home.ok(&["wait", "sh", "--match", "^\\$ $", "--timeout", "10"]);
    home.ok(&["send", "sh", "echo first-$((20+1))", "--enter"]);
    home.ok(&["wait", "sh", "--match", "^first-21$", "--timeout", "10"]);
    // Up recalls the last line; C-a / C-k edit it; Enter runs it.
    home.ok(&[
        "send", "sh", "--key", "Up", "--key", "C-a", "--key", "M-f", "--key", "C-k",
    ]);
    home.ok(&["send", "sh", " second", "--enter"]);
    home.ok(&["wait", "sh", "--match", "^second$", "--timeout", "10"]);
    // C-c interrupts a running command.
    home.ok(&["send", "sh", "sleep 100; echo not-interrupted", "--enter"]);
    home.ok(&["wait", "sh", "--match", "sleep 100", "--timeout", "10"]);
    home.ok(&["send", "sh", "--key", "C-c"]);
    home.ok(&["send", "sh", "echo after-$((1+1))", "--enter"]);
    home.ok(&["wait", "sh", "--match", "^after-2$", "--timeout", "10"]);
    let screen = home.ok(&["capture", "sh"]);
    assert!(!screen.lines().any(|l| l == "not-interrupted"), "{screen}");
}

#[test]
fn wait_match_with_scrollback_finds_lines_that_left_the_screen() {
    let home = Home::new();
    // About 150 KiB of history: more than the server searches on its I/O thread.
    let program = "for i in $(seq 1 6000); do echo \"history line $i of a long build log\"; done; \
                   echo marker-of-the-end; exec sleep 100";
    home.spawn("log", &["bash", "-c", program]);
    home.ok(&[
        "wait",
        "log",
        "--match",
        "^marker-of-the-end$",
        "--timeout",
        "20",
    ]);

    // Line 17 scrolled off long ago: only the scrollback has it.
    let line = "^history line 17 of a long build log$";
    home.ok(&[
        "wait",
        "log",
        "--match",
        line,
        "--scrollback",
        "--timeout",
        "10",
    ]);
    let screen_only = home.run(&["wait", "log", "--match", line, "--timeout", "1"]);
    assert_eq!(
        screen_only.status.code(),
        Some(124),
        "the screen alone has no line 17"
    );
    // ASCII classes work (`\d`), across the whole history.
    home.ok(&[
        "wait",
        "log",
        "--match",
        r"^history line \d{4} of",
        "--scrollback",
        "--timeout",
        "10",
    ]);
}

#[test]
fn capture_gives_text_colours_history_and_json() {
    let home = Home::new();
    let program = "printf '\\033]2;the title\\007'; for i in $(seq 1 40); do echo line-$i; done; \
                   printf '\\033[1;32mgreen\\033[0m 漢字 🙂 end\\n'; exec sleep 100";
    home.spawn("cap", &["bash", "-c", program]);
    home.ok(&["wait", "cap", "--match", "end$", "--timeout", "10"]);

    let plain = home.ok(&["capture", "cap"]);
    let last = plain.lines().last().expect("a line");
    assert_eq!(last, "green 漢字 🙂 end");
    assert!(
        !plain.contains("line-1\n"),
        "line-1 scrolled off the 24-row screen:\n{plain}"
    );

    let ansi = home.ok(&["capture", "cap", "--ansi"]);
    assert!(ansi.contains("\x1b[") && ansi.contains("green"), "{ansi:?}");

    let with_history = home.ok(&["capture", "cap", "--scrollback", "5"]);
    let first: Vec<&str> = with_history.lines().take(5).collect();
    // 24 rows hold line-19..line-40, the green line and the cursor's empty row.
    assert_eq!(
        first,
        ["line-14", "line-15", "line-16", "line-17", "line-18"]
    );
    let all = home.ok(&["capture", "cap", "--all"]);
    assert!(all.starts_with("line-1\nline-2\n"), "{all}");

    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["capture", "cap", "--json"])).expect("json");
    assert_eq!(json["title"], "the title");
    assert_eq!(json["status"], "running");
    assert_eq!(json["alternate_screen"], false);
    assert_eq!(json["size"]["cols"], 80);
    assert_eq!(json["size"]["rows"], 24);
    assert_eq!(json["cursor"]["row"], 23);
    assert_eq!(json["cursor"]["col"], 0);
    assert_eq!(json["rows"].as_array().expect("rows").len(), 24);
    assert_eq!(json["rows"][22], "green 漢字 🙂 end");
}

#[test]
fn wait_reports_exit_status_timeouts_and_idleness() {
    let home = Home::new();
    home.spawn("quick", &["bash", "-c", "sleep 0.3; exit 7"]);
    let out = home.run(&["wait", "quick", "--exit", "--timeout", "10"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "7");

    home.spawn("slow", &["sleep", "100"]);
    let out = home.run(&["wait", "slow", "--exit", "--timeout", "0.3"]);
    assert_eq!(out.status.code(), Some(124));
    let out = home.run(&["wait", "slow", "--match", "never", "--timeout", "0.3"]);
    assert_eq!(out.status.code(), Some(124));

    // Quiet from the start, so idle after a second.
    let out = home.run(&["wait", "slow", "--idle", "1", "--timeout", "10"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A program that ends without showing the pattern does not leave wait hanging.
    home.spawn("short", &["bash", "-c", "echo bye"]);
    let out = home.run(&["wait", "short", "--match", "never-shown"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("symp: session short ended"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn spinners_are_busy_and_identical_redraws_are_idle() {
    let home = Home::new();
    let spinner = "while :; do for c in '|' / - '\\'; do printf '\\rthinking %s' \"$c\"; sleep 0.05; done; done";
    let same = "while :; do printf '\\rwaiting for input'; sleep 0.05; done";
    home.spawn("spin", &["bash", "-c", spinner]);
    home.spawn("same", &["bash", "-c", same]);
    wait_until("the redraw-only session to turn idle", || {
        home.session("same")["activity"] == "idle"
    });
    assert_eq!(home.session("spin")["activity"], "busy");
    let out = home.run(&["wait", "spin", "--idle", "1", "--timeout", "2.5"]);
    assert_eq!(
        out.status.code(),
        Some(124),
        "a spinning agent is working, not idle"
    );
}

#[test]
fn bad_requests_fail_with_one_line_and_change_nothing() {
    let home = Home::new();
    python_repl(&home, "py");
    let before = home.ok(&["capture", "py"]);
    for (args, needle) in [
        (&["send", "nope", "x"][..], "no session named nope"),
        (&["capture", "nope"][..], "no session named nope"),
        (&["wait", "nope", "--exit"][..], "no session named nope"),
        (&["send", "py", "abc", "--key", "Bogus"][..], "unknown key"),
        (&["wait", "py", "--match", "("][..], "bad regex"),
    ] {
        let out = home.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("symp: ") && err.contains(needle) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    // The bad key sent nothing, not even the text before it.
    assert_eq!(home.ok(&["capture", "py"]), before);

    home.spawn("done", &["true"]);
    home.ok(&["wait", "done", "--exit", "--timeout", "10"]);
    let out = home.run(&["send", "done", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has ended"), "{}", stderr(&out));
    let out = home.run(&["send", "py"]);
    assert_eq!(out.status.code(), Some(1));
}
