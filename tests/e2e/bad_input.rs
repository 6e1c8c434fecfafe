//! Mistakes a person or script makes: each is one `symp: ` line on stderr, a
//! non-zero exit (2 for usage), and nothing left behind.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{Home, Term};

/// Runs `symp ARGS`, insists it fails with `code` and one `symp: ` line; returns that line.
fn fails(home: &Home, args: &[&str], code: i32) -> String {
    let out = home.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "symp {args:?}: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "symp {args:?}: one line, got {stderr:?}"
    );
    assert!(stderr.starts_with("symp: "), "symp {args:?}: {stderr:?}");
    assert!(out.stdout.is_empty(), "symp {args:?} printed to stdout");
    stderr
}

/// `spawn --name NAME -- CMD` fails with `code`, and no session appears.
fn spawn_fails(home: &Home, name: &str, cmd: &[&str], code: i32) -> String {
    let before = home.names(true);
    let mut args = vec!["spawn", "--name", name, "--"];
    args.extend_from_slice(cmd);
    let message = fails(home, &args, code);
    assert_eq!(home.names(true), before, "a session was left behind");
    message
}

#[test]
fn unknown_sessions_are_errors_for_kill_and_rm() {
    let home = Home::new();
    home.spawn("real", &["sleep", "1000"]);
    let message = fails(&home, &["kill", "nope"], 1);
    assert!(message.contains("nope"), "{message}");
    let message = fails(&home, &["rm", "nope"], 1);
    assert!(message.contains("nope"), "{message}");
    assert_eq!(home.names(true), ["real"]);
}

#[test]
fn attaching_to_an_unknown_session_is_an_error_and_leaves_the_terminal_alone() {
    let home = Home::new();
    let mut term = Term::symp(&home, &["attach", "nope"], 80, 24);
    assert_eq!(term.wait_exit(), 1);
    term.wait_for_text("nope");
    let text = term.text();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("symp: "), "{text}");
    term.with_screen(|s| {
        assert!(!s.alternate_screen() && !s.hide_cursor());
        assert_eq!(s.cursor_position(), (1, 0), "only the one line was printed");
    });
}

#[test]
fn a_taken_name_is_an_error_and_the_first_session_is_untouched() {
    let home = Home::new();
    home.spawn("taken", &["sleep", "1000"]);
    let pid = home.pid("taken");
    let message = spawn_fails(&home, "taken", &["sleep", "1"], 1);
    assert!(message.contains("taken"), "{message}");
    assert_eq!(home.pid("taken"), pid);
    assert_eq!(home.session("taken")["status"], "running");
}

#[test]
fn invalid_names_are_errors() {
    let home = Home::new();
    let long = "x".repeat(65);
    for name in ["has space", "a/b", "tab\there", "", long.as_str(), "ünï"] {
        let before = home.names(true);
        let out = home.run(&["spawn", "--name", name, "--", "sleep", "1"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{name:?}: {stderr}"
        );
        assert!(
            stderr.starts_with("symp: ") && stderr.lines().count() == 1,
            "{name:?}: {stderr:?}"
        );
        assert_eq!(home.names(true), before, "{name:?} left a session");
    }
    // 64 characters is fine.
    home.spawn(&"y".repeat(64), &["sleep", "1000"]);
}

#[test]
fn a_command_that_is_not_found_is_an_error() {
    let home = Home::new();
    let message = spawn_fails(&home, "ghost", &["no-such-program-xyz"], 1);
    assert!(message.contains("no-such-program-xyz"), "{message}");
    let message = spawn_fails(&home, "ghost", &["./no/such/path"], 1);
    assert!(message.contains("no/such/path"), "{message}");
}

#[test]
fn a_command_that_is_not_executable_is_an_error() {
    let home = Home::new();
    let file = home.path().join("plain.sh");
    std::fs::write(&file, "#!/bin/sh\necho hi\n").expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let message = spawn_fails(&home, "plain", &[file.to_str().expect("utf8")], 1);
    assert!(message.contains("not executable"), "{message}");
}

#[test]
fn a_missing_working_directory_is_an_error() {
    let home = Home::new();
    let before = home.names(true);
    let message = fails(
        &home,
        &[
            "spawn",
            "--name",
            "lost",
            "--cwd",
            "/no/such/dir",
            "--",
            "true",
        ],
        1,
    );
    assert!(message.contains("/no/such/dir"), "{message}");
    assert_eq!(home.names(true), before);
}

#[test]
fn attach_without_a_terminal_is_an_error() {
    let home = Home::new();
    home.spawn("real", &["sleep", "1000"]);
    // Stdin and stdout are not terminals here.
    let message = fails(&home, &["attach", "real"], 1);
    assert!(message.contains("terminal"), "{message}");
    let row = home.session("real");
    assert_eq!(row["status"], "running");
    assert_eq!(row["clients"], 0);
}

#[test]
fn usage_errors_exit_2_and_start_nothing() {
    let home = Home::new();
    for args in [
        &["bogus"][..],
        &["spawn"],
        &["spawn", "--name", "x"],
        &["kill"],
        &["list", "--bogus"],
        &["rm"],
        &["rm", "x", "--exited"],
        &["attach"],
        &["server", "sideways"],
    ] {
        fails(&home, args, 2);
    }
    assert!(!home.socket().exists(), "a usage error started the server");
}

#[test]
fn bad_option_values_are_errors() {
    let home = Home::new();
    home.spawn("real", &["sleep", "1000"]);
    fails(&home, &["spawn", "--size", "huge", "--", "true"], 1);
    fails(&home, &["spawn", "--env", "NOEQUALS", "--", "true"], 1);
    fails(&home, &["kill", "real", "--signal", "NOPE"], 1);
    fails(&home, &["attach", "real", "--detach-key", "x"], 1);
    assert_eq!(home.names(true), ["real"]);
    assert_eq!(home.session("real")["status"], "running");
}

#[test]
fn a_missing_argument_error_names_the_argument() {
    let home = Home::new();
    let message = fails(&home, &["kill"], 2);
    assert!(message.contains("<NAME>"), "{message}");
    let message = fails(&home, &["spawn"], 2);
    assert!(message.contains("<CMD>"), "{message}");
}
