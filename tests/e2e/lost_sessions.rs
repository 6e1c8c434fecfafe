//! The registry on disk, and sessions whose server died under them (`lost`).

use std::os::unix::net::UnixStream;

use nix::sys::signal::Signal;

use crate::harness::{wait_until, Home};
use crate::procfs::{self, KillOnDrop};

#[test]
fn the_registry_file_is_valid_json_naming_every_session() {
    let home = Home::new();
    home.spawn("alpha", &["sleep", "1000"]);
    home.spawn("beta", &["true"]);
    home.wait_status("beta", "exited");
    let text = std::fs::read_to_string(home.path().join("registry.json")).expect("registry");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let names: Vec<&str> = json["sessions"]
        .as_array()
        .expect("a sessions array")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["alpha", "beta"], "{text}");
}

#[test]
fn a_session_running_when_the_server_is_killed_is_listed_as_lost() {
    let home = Home::new();
    // Ignores the hangup it gets when the server dies, so it really is orphaned.
    home.spawn(
        "orphan",
        &[
            "bash",
            "-c",
            "trap '' HUP; echo ORPHAN-SAID; exec sleep 1000",
        ],
    );
    home.spawn("ended", &["sh", "-c", "exit 4"]);
    home.wait_status("ended", "exited");
    wait_until("the orphan's transcript", || {
        home.ok(&["logs", "orphan"]) == "ORPHAN-SAID\n"
    });
    let program = home.pid("orphan");
    let _cleanup = KillOnDrop::new(&[program]);
    let old_server = home.server_pid().expect("server");

    procfs::signal(old_server, Signal::SIGKILL);
    // Its main thread turns zombie before the others let go of the socket.
    wait_until("the dead server's socket to refuse connections", || {
        UnixStream::connect(home.socket()).is_err()
    });
    assert!(!procfs::alive(old_server));

    // The next command starts a new server, which remembers what the old one ran.
    let row = home.session("orphan");
    let new_server = home.server_pid().expect("a new server");
    assert_ne!(new_server, old_server);
    assert_eq!(row["status"], "lost", "{row}");
    assert_eq!(row["pid"], program);
    let ended = home.session("ended");
    assert_eq!(ended["status"], "exited");
    assert_eq!(ended["exit_code"], 4);
    assert!(
        home.names(false).is_empty(),
        "lost sessions are not running"
    );

    // What it printed under the old server is still there.
    assert_eq!(home.ok(&["logs", "orphan"]), "ORPHAN-SAID\n");

    // A lost session is over: it can be removed like any ended one.
    home.ok(&["rm", "orphan"]);
    assert_eq!(home.names(true), ["ended"]);
    assert!(procfs::alive(program), "the test expected a real orphan");
}

#[test]
fn an_attached_client_whose_server_dies_says_so_and_restores_the_terminal() {
    let home = Home::new();
    home.spawn(
        "doomed",
        &[
            "sh",
            "-c",
            r"printf '\033[?1049h\033[?25lbusy'; exec sleep 1000",
        ],
    );
    let program = home.pid("doomed");
    let _cleanup = KillOnDrop::new(&[program]);
    let mut term = crate::harness::Term::symp(&home, &["attach", "doomed"], 80, 24);
    term.wait_for_text("busy");
    let server = home.server_pid().expect("server");

    procfs::signal(server, Signal::SIGKILL);
    assert_eq!(term.wait_exit(), 1);
    term.wait_for_text("symp: ");
    term.with_screen(|s| {
        assert!(!s.alternate_screen(), "left on the alternate screen");
        assert!(!s.hide_cursor(), "cursor left hidden");
    });
    let text = term.text();
    let message = text
        .lines()
        .find(|l| l.starts_with("symp: "))
        .expect("message");
    assert!(message.contains("server"), "{message}");
}
