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
    home.spawn("orphan", &["bash", "-c", "trap '' HUP; exec sleep 1000"]);
    home.spawn("ended", &["sh", "-c", "exit 4"]);
    home.wait_status("ended", "exited");
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

    // A lost session is over: it can be removed like any ended one.
    home.ok(&["rm", "orphan"]);
    assert_eq!(home.names(true), ["ended"]);
    assert!(procfs::alive(program), "the test expected a real orphan");
}
