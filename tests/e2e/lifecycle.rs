//! A session's life as `spawn`, `list`, `kill` and `rm` show it.

use crate::harness::Home;
use crate::procfs;

#[test]
fn spawn_prints_the_name_and_list_shows_it_running_with_its_pid() {
    let home = Home::new();
    let out = home.ok(&["spawn", "--name", "worker", "--", "sleep", "1000"]);
    assert_eq!(out, "worker\n");

    let row = home.session("worker");
    assert_eq!(row["status"], "running");
    assert_eq!(row["command"], serde_json::json!(["sleep", "1000"]));
    let pid = home.pid("worker");
    assert!(procfs::alive(pid), "pid {pid} from list is not running");
    let args = procfs::cmdline(pid);
    assert!(
        args[0].ends_with("sleep") && args[1..] == ["1000"],
        "{args:?}"
    );

    let table = home.ok(&["list"]);
    let line = table
        .lines()
        .find(|l| l.starts_with("worker "))
        .unwrap_or_else(|| panic!("no worker row in:\n{table}"));
    assert!(line.contains("running"), "{line}");
    assert!(line.contains(&pid.to_string()), "{line}");
}

#[test]
fn spawn_without_a_name_makes_a_unique_one() {
    let home = Home::new();
    let first = home.ok(&["spawn", "--", "sleep", "1000"]);
    let second = home.ok(&["spawn", "--", "sleep", "1000"]);
    let (first, second) = (first.trim(), second.trim());
    assert!(!first.is_empty() && !first.contains(char::is_whitespace));
    assert_ne!(first, second);
    let names = home.names(false);
    assert!(names.contains(&first.to_owned()) && names.contains(&second.to_owned()));
}

#[test]
fn kill_ends_the_program_and_status_becomes_killed_with_the_signal() {
    let home = Home::new();
    home.spawn("victim", &["sleep", "1000"]);
    let pid = home.pid("victim");
    home.ok(&["kill", "victim"]);
    let row = home.wait_status("victim", "killed");
    // The first signal of the HUP, TERM, KILL sequence ends a plain sleep.
    assert_eq!(row["signal"], 1, "{row}");
    assert_eq!(row["exit_code"], serde_json::Value::Null);
    assert!(!procfs::alive(pid));
    let table = home.ok(&["list", "--all"]);
    assert!(table.contains("killed(HUP)"), "{table}");
}

#[test]
fn kill_with_signal_term_sends_that_signal() {
    let home = Home::new();
    home.spawn("victim", &["sleep", "1000"]);
    home.ok(&["kill", "victim", "--signal", "TERM"]);
    let row = home.wait_status("victim", "killed");
    assert_eq!(row["signal"], 15, "{row}");
}

#[test]
fn a_program_that_exits_by_itself_shows_exited_with_its_code() {
    let home = Home::new();
    home.spawn("quitter", &["sh", "-c", "exit 3"]);
    let row = home.wait_status("quitter", "exited");
    assert_eq!(row["exit_code"], 3, "{row}");
    assert_eq!(row["signal"], serde_json::Value::Null);
    let table = home.ok(&["list", "--all"]);
    assert!(table.contains("exited(3)"), "{table}");
}

#[test]
fn list_hides_ended_sessions_and_list_all_shows_them() {
    let home = Home::new();
    home.spawn("done", &["true"]);
    home.spawn("busy", &["sleep", "1000"]);
    home.wait_status("done", "exited");
    assert_eq!(home.names(false), ["busy"]);
    assert_eq!(home.names(true), ["busy", "done"]);
    let table = home.ok(&["list"]);
    assert!(!table.contains("done"), "{table}");
    let table = home.ok(&["list", "--all"]);
    assert!(table.contains("done"), "{table}");
}

#[test]
fn rm_removes_ended_sessions() {
    let home = Home::new();
    home.spawn("done", &["true"]);
    home.wait_status("done", "exited");
    home.ok(&["rm", "done"]);
    assert!(home.names(true).is_empty());
}

#[test]
fn rm_of_a_running_session_fails_and_removes_nothing() {
    let home = Home::new();
    home.spawn("done", &["true"]);
    home.spawn("busy", &["sleep", "1000"]);
    home.wait_status("done", "exited");
    let out = home.run(&["rm", "done", "busy"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("symp: ") && stderr.contains("busy"),
        "{stderr}"
    );
    assert_eq!(home.names(true), ["busy", "done"]);
    assert_eq!(home.session("busy")["status"], "running");
}

#[test]
fn rm_exited_removes_every_ended_session_and_keeps_running_ones() {
    let home = Home::new();
    home.spawn("ok", &["true"]);
    home.spawn("failed", &["false"]);
    home.spawn("killed", &["sleep", "1000"]);
    home.spawn("busy", &["sleep", "1000"]);
    home.ok(&["kill", "killed"]);
    home.wait_status("ok", "exited");
    home.wait_status("failed", "exited");
    home.wait_status("killed", "killed");
    home.ok(&["rm", "--exited"]);
    assert_eq!(home.names(true), ["busy"]);
}

/// A uid no entry of /etc/passwd has.
const STRANGER_UID: u32 = 54_321;

/// `symp` run as `STRANGER_UID` with nothing in its environment but its home:
/// no `HOME`, no `SHELL`, no `PATH`.
struct Stranger {
    dir: tempfile::TempDir,
}

impl Stranger {
    fn symp(&self, args: &[&str]) -> std::process::Output {
        let id = STRANGER_UID.to_string();
        std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={id}"),
                &format!("--regid={id}"),
                "--clear-groups",
            ])
            .arg(crate::harness::SYMP)
            .args(args)
            .env_clear()
            .env("SYMP_HOME", self.dir.path().join("home"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run symp as a stranger")
    }
}

impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = self.symp(&["server", "stop"]);
    }
}

/// A program spawned for a user /etc/passwd does not know, with neither `HOME`
/// nor `SHELL` in the environment, gets `/` and `/bin/sh`, and the server lives
/// on: portable-pty's `getpwuid` for them, from the static binary, loaded the
/// host's NSS modules and crashed the server. Needs root.
#[test]
fn a_user_unknown_to_the_password_file_can_spawn_without_home_or_shell() {
    if !crate::harness::can_switch_users() {
        return;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    if passwd
        .lines()
        .any(|l| l.split(':').nth(2) == Some(&STRANGER_UID.to_string()))
    {
        eprintln!("skipped: uid {STRANGER_UID} is in /etc/passwd here");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    crate::harness::hand_over(dir.path(), STRANGER_UID);
    let stranger = Stranger { dir };

    let spawned = stranger.symp(&[
        "spawn",
        "--name",
        "bare",
        "--",
        "sh",
        "-c",
        "echo \"shell=$SHELL home=$HOME\"; exec cat",
    ]);
    assert!(
        spawned.status.success(),
        "spawn failed: {}",
        String::from_utf8_lossy(&spawned.stderr)
    );
    let mut screen = String::new();
    crate::harness::wait_until("the program's line on its screen", || {
        screen = String::from_utf8_lossy(&stranger.symp(&["capture", "bare"]).stdout).into_owned();
        screen.contains("shell=")
    });
    assert!(screen.contains("shell=/bin/sh home=/"), "{screen}");
}
