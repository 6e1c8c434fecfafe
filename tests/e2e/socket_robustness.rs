//! Malformed, oversized, truncated or mismatched frames end that one connection
//! (with an error where one can be sent); the server, its sessions and its other
//! clients carry on.

use symp_protocol::{ClientMsg, ServerMsg, Size, PROTOCOL_VERSION};

use crate::harness::{Home, Term};
use crate::wire::Wire;

/// A server with a shell session and an attached client, before the trouble starts.
struct Bystanders {
    // Fields drop in order: the client goes before its server.
    watcher: Term,
    home: Home,
    server: i32,
}

impl Bystanders {
    fn new() -> Self {
        let home = Home::new();
        home.spawn_shell("survivor");
        let watcher = Term::attach_at_prompt(&home, "survivor", 80, 24);
        let server = home.server_pid().expect("server");
        Self {
            watcher,
            home,
            server,
        }
    }

    /// The same server still answers, the attached client still works, and a new
    /// client can attach.
    fn carry_on(mut self) {
        let home = &self.home;
        assert_eq!(home.server_pid(), Some(self.server), "the server changed");
        let row = home.session("survivor");
        assert_eq!(row["status"], "running");
        self.watcher.type_str("echo still-$((40+2))\r");
        self.watcher.wait_for_text("still-42");
        let mut fresh = Term::symp(home, &["attach", "survivor"], 80, 24);
        fresh.wait_for_text("still-42");
        fresh.type_str("echo again-$((40+3))\r");
        fresh.wait_for_text("again-43");
        self.watcher.wait_for_text("again-43");
    }
}

/// The messages the server sent before hanging up: at most one, an error.
fn error_then_close(wire: &mut Wire) -> Option<String> {
    let messages = wire.until_closed();
    match messages.as_slice() {
        [] => None,
        [ServerMsg::Error { message }] => Some(message.clone()),
        other => panic!("expected one error at most, got {other:?}"),
    }
}

#[test]
fn text_garbage_ends_the_connection() {
    let b = Bystanders::new();
    let mut wire = Wire::connect(&b.home);
    wire.send_raw(b"GET / HTTP/1.1\r\nHost: symp\r\n\r\n");
    error_then_close(&mut wire);
    b.carry_on();
}

#[test]
fn a_well_framed_garbage_payload_ends_the_connection_with_an_error() {
    let b = Bystanders::new();
    let mut wire = Wire::connect(&b.home);
    wire.send_raw(&[0, 0, 0, 8, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8]);
    let message = error_then_close(&mut wire).expect("an error message");
    assert!(!message.is_empty());
    b.carry_on();
}

#[test]
fn an_oversized_length_prefix_ends_the_connection_with_an_error() {
    let b = Bystanders::new();
    let mut wire = Wire::connect(&b.home);
    wire.send_raw(&[0xff, 0xff, 0xff, 0xff]);
    let message = error_then_close(&mut wire).expect("an error message");
    assert!(message.contains("4294967295"), "{message}");
    b.carry_on();
}

#[test]
fn half_a_frame_then_close_ends_the_connection() {
    let b = Bystanders::new();
    let mut wire = Wire::connect(&b.home);
    wire.send_raw(&[0, 0, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    wire.shut_write();
    error_then_close(&mut wire);
    b.carry_on();
}

#[test]
fn a_hello_with_the_wrong_version_is_refused_by_name() {
    let b = Bystanders::new();
    let mut wire = Wire::connect(&b.home);
    wire.send(&ClientMsg::Hello { version: 999 });
    let message = error_then_close(&mut wire).expect("an error message");
    assert!(message.contains("999"), "{message}");
    assert!(message.contains(&PROTOCOL_VERSION.to_string()), "{message}");
    b.carry_on();
}

#[test]
fn a_request_before_hello_is_refused() {
    let b = Bystanders::new();
    let mut wire = Wire::connect(&b.home);
    wire.send(&ClientMsg::List { all: true });
    let message = error_then_close(&mut wire).expect("an error message");
    assert!(message.contains("hello"), "{message}");
    b.carry_on();
}

#[test]
fn an_unknown_message_after_hello_ends_the_connection() {
    let b = Bystanders::new();
    let mut wire = Wire::hello(&b.home);
    // Variant 200 of ClientMsg does not exist.
    wire.send_raw(&[0, 0, 0, 2, 200, 1]);
    error_then_close(&mut wire);
    b.carry_on();
}

#[test]
fn garbage_from_an_attached_connection_ends_only_that_attachment() {
    let b = Bystanders::new();
    let mut wire = Wire::hello(&b.home);
    wire.send(&ClientMsg::Attach {
        name: "survivor".into(),
        read_only: false,
        size: Size { cols: 80, rows: 24 },
    });
    assert!(matches!(wire.recv(), Some(ServerMsg::Snapshot(_))));
    b.home.wait_clients("survivor", 2);
    wire.send_raw(&[0, 0, 0, 3, 0xff, 0xff, 0xff]);
    let messages = wire.until_closed();
    assert!(
        messages.iter().all(|m| matches!(
            m,
            ServerMsg::Output(_) | ServerMsg::Snapshot(_) | ServerMsg::Error { .. }
        )),
        "{messages:?}"
    );
    b.home.wait_clients("survivor", 1);
    b.carry_on();
}
