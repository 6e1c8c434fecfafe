//! Losing an attached client (killed, hung up) never affects the session.

use nix::sys::signal::Signal;

use crate::harness::{Home, Term};
use crate::procfs;

/// Attaches, prints a line, then loses the client to `signal`; the session must
/// run on and show the same picture to the next client.
fn lose_client_to(signal: Signal) {
    let home = Home::new();
    home.spawn_shell("sturdy");
    let mut lost = Term::attach_at_prompt(&home, "sturdy", 80, 24);
    lost.type_str("echo before-$((1+1))\r");
    lost.wait_for("the output and the next prompt", |s| {
        s.contents().contains("\nbefore-2\n$ ")
    });
    let picture = lost.text();
    home.wait_clients("sturdy", 1);

    procfs::signal(lost.pid() as i32, signal);
    lost.wait_exit();
    home.wait_clients("sturdy", 0);
    assert_eq!(home.session("sturdy")["status"], "running");

    let mut again = Term::symp(&home, &["attach", "sturdy"], 80, 24);
    again.wait_for("the same picture", |s| s.contents() == picture);
    again.type_str("echo after-$((2+2))\r");
    again.wait_for_text("after-4");
}

#[test]
fn killing_the_client_with_sigkill_leaves_the_session_running() {
    lose_client_to(Signal::SIGKILL);
}

#[test]
fn hanging_up_the_client_leaves_the_session_running() {
    lose_client_to(Signal::SIGHUP);
}
