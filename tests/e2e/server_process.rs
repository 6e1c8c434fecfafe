//! The background server: started on first use, exactly one per home, private, stoppable.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::time::Duration;

use crate::harness::{wait_until, Home};
use crate::procfs;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[test]
fn server_status_exits_1_when_no_server_runs() {
    let home = Home::new();
    let out = home.run(&["server", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no server running\n");
    assert!(!home.socket().exists());
}

#[test]
fn the_first_command_starts_the_server() {
    let home = Home::new();
    assert!(home.server_pid().is_none());
    assert_eq!(home.ok(&["list", "--json"]).trim(), "[]");

    let out = home.run(&["server", "status"]);
    assert_eq!(out.status.code(), Some(0));
    let pid = home.server_pid().expect("status names the pid");
    assert_eq!(procfs::servers_for(home.path()), [pid]);
    let again = home.ok(&["server", "start"]);
    assert!(again.contains("already running"), "{again}");
    assert_eq!(procfs::servers_for(home.path()), [pid]);
}

#[test]
fn commands_racing_to_start_the_server_end_with_exactly_one() {
    let home = Home::new();
    let racers: Vec<_> = (0..4)
        .map(|_| {
            home.command(&["list", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn symp list")
        })
        .collect();
    for racer in racers {
        let out = racer.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "a racer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    }
    let pid = home.server_pid().expect("a server runs");
    // Losers of the start race may take a moment to notice and exit.
    wait_until("one server process", || {
        procfs::servers_for(home.path()) == [pid]
    });
}

#[test]
fn the_home_directory_is_0700_and_the_socket_0600() {
    let home = Home::new();
    // Start from a loose directory: the server tightens what it uses.
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    home.spawn("x", &["sleep", "1000"]);
    assert_eq!(mode(home.path()), 0o700);
    let socket = home.socket();
    assert!(std::fs::metadata(&socket)
        .expect("socket")
        .file_type()
        .is_socket());
    assert_eq!(mode(&socket), 0o600);
}

#[test]
fn server_stop_stops_the_server_and_removes_the_socket() {
    let home = Home::new();
    home.spawn("x", &["sleep", "1000"]);
    let pid = home.server_pid().expect("server");
    let out = home.ok(&["server", "stop"]);
    assert_eq!(out, "server stopped\n");
    assert!(!home.socket().exists(), "socket left behind");
    assert_eq!(
        procfs::survivors_after(&[pid], Duration::from_secs(3)),
        Vec::<i32>::new()
    );
    assert_eq!(home.run(&["server", "status"]).status.code(), Some(1));
    assert_eq!(home.ok(&["server", "stop"]), "no server running\n");
}
