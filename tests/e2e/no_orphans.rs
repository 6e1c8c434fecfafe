//! Nothing a session started outlives it: no orphans after `kill` or `server stop`,
//! and no zombie once a program has ended.

use std::path::Path;
use std::time::Duration;

use crate::harness::{wait_until, Home};
use crate::procfs;

/// How long programs may take to die once `kill` or `server stop` returned.
const GRACE: Duration = Duration::from_secs(3);

/// Spawns a bash that starts a background sleep, then waits in a foreground one;
/// returns the pids of the bash and of its background child once all three run.
fn spawn_with_background_child(home: &Home, name: &str) -> [i32; 2] {
    let pids = home.path().join(format!("{name}.pids"));
    let script = format!(
        "sleep 1000 & echo $$ $! > {tmp}; mv {tmp} {pids}; sleep 1000; exit 0",
        tmp = pids.with_extension("tmp").display(),
        pids = pids.display()
    );
    home.spawn(name, &["bash", "-c", &script]);
    let [shell, child] = read_pids(&pids);
    wait_until("bash to start its foreground sleep", || {
        procfs::session_members(shell).len() == 3
    });
    [shell, child]
}

fn read_pids(file: &Path) -> [i32; 2] {
    wait_until("the program to write its pids", || file.exists());
    let text = std::fs::read_to_string(file).expect("pids file");
    let pids: Vec<i32> = text
        .split_whitespace()
        .map(|p| p.parse().expect("pid"))
        .collect();
    [pids[0], pids[1]]
}

#[test]
fn kill_leaves_no_process_of_the_program_alive() {
    let home = Home::new();
    let [shell, child] = spawn_with_background_child(&home, "forks");
    assert_eq!(home.pid("forks"), shell);
    let members = procfs::session_members(shell);
    assert!(members.contains(&child), "{members:?}");

    home.ok(&["kill", "forks"]);
    home.wait_status("forks", "killed");
    assert_eq!(procfs::survivors_after(&members, GRACE), Vec::<i32>::new());
    assert_eq!(procfs::session_members(shell), Vec::<i32>::new());
}

#[test]
fn kill_also_ends_children_that_ignore_hangup() {
    let home = Home::new();
    let pids = home.path().join("stubborn.pids");
    // The background child ignores SIGHUP, so the TERM step has to end it.
    let script = format!(
        "trap '' HUP; sleep 1000 & echo $$ $! > {tmp}; mv {tmp} {pids}; wait",
        tmp = pids.with_extension("tmp").display(),
        pids = pids.display()
    );
    home.spawn("stubborn", &["bash", "-c", &script]);
    let [shell, child] = read_pids(&pids);
    home.ok(&["kill", "stubborn"]);
    home.wait_status("stubborn", "killed");
    assert_eq!(
        procfs::survivors_after(&[shell, child], GRACE),
        Vec::<i32>::new()
    );
}

#[test]
fn server_stop_leaves_no_program_alive() {
    let home = Home::new();
    let first = spawn_with_background_child(&home, "one");
    let second = spawn_with_background_child(&home, "two");
    let mut members = procfs::session_members(first[0]);
    members.extend(procfs::session_members(second[0]));

    let out = home.ok(&["server", "stop"]);
    assert!(out.contains("server stopped"), "{out}");
    assert_eq!(procfs::survivors_after(&members, GRACE), Vec::<i32>::new());
}

#[test]
fn a_program_that_exits_is_reaped() {
    let home = Home::new();
    let gate = home.path().join("gate");
    let script = format!("while [ ! -e {} ]; do sleep 0.01; done", gate.display());
    home.spawn("brief", &["sh", "-c", &script]);
    let pid = home.pid("brief");
    assert!(procfs::alive(pid));
    std::fs::write(&gate, "").expect("gate");
    home.wait_status("brief", "exited");
    // The server still runs, so a zombie would be its unreaped child.
    assert!(home.server_pid().is_some());
    // `exited` is recorded after the program is reaped, so by now the pid is gone,
    // not a zombie.
    assert_eq!(procfs::state(pid), None, "pid {pid} is still there");
}
