//! `symp attach` hands its terminal to the server, which draws into it: once the
//! client detaches or dies, the server must have stopped drawing there, and the
//! shell that ran the client must get its terminal back as it was.

use std::time::Duration;

use symp_protocol::{ClientMsg, ServerMsg, Size};

use crate::harness::{wait_until, Home, Term, SYMP};
use crate::procfs;
use crate::wire::Wire;

/// A session printing `tick-N` every 20 ms, for as long as it lives.
fn spawn_ticker(home: &Home) {
    home.spawn(
        "ticker",
        &[
            "sh",
            "-c",
            "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.02; done",
        ],
    );
}

/// The highest tick the session's screen shows.
fn last_tick(home: &Home) -> u64 {
    home.ok(&["capture", "ticker"])
        .lines()
        .filter_map(|line| line.trim().strip_prefix("tick-")?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// Waits until the session has printed a few more ticks: output the server read
/// after whatever happened before this call.
fn wait_for_more_ticks(home: &Home) {
    let from = last_tick(home);
    wait_until("the session to print on", || last_tick(home) >= from + 5);
}

fn ticks_in(bytes: &[u8]) -> usize {
    bytes.windows(5).filter(|w| w == b"tick-").count()
}

#[test]
fn after_a_detach_the_server_draws_nothing_more_and_the_shell_reads_its_terminal_as_before() {
    let home = Home::new();
    spawn_ticker(&home);
    let script = format!("'{SYMP}' attach ticker; echo '[back]'; read line; echo \"got:$line\"");
    let mut term = Term::run(Term::command(&home, "sh", &["-c", &script]), 80, 24);
    term.wait_for_text("tick-");

    term.type_bytes(b"\x1c");
    term.wait_for_text("[back]");
    home.wait_clients("ticker", 0);
    let at_detach = term.raw().len();
    wait_for_more_ticks(&home);
    assert_eq!(
        ticks_in(&term.raw()[at_detach..]),
        0,
        "the server drew into the terminal after the detach"
    );

    // The shell's stdin is blocking and cooked again: `read` waits for a line.
    term.type_str("hello\r");
    term.wait_for_text("got:hello");
}

#[test]
fn a_killed_client_leaves_no_server_drawing_into_its_terminal() {
    let home = Home::new();
    spawn_ticker(&home);
    let mut client = Term::symp(&home, &["attach", "ticker"], 80, 24);
    client.wait_for_text("tick-");
    home.wait_clients("ticker", 1);

    procfs::signal(client.pid() as i32, nix::sys::signal::Signal::SIGKILL);
    client.wait_exit();
    home.wait_clients("ticker", 0);
    let after_loss = client.raw().len();
    wait_for_more_ticks(&home);
    assert_eq!(
        ticks_in(&client.raw()[after_loss..]),
        0,
        "the server kept drawing into a dead client's terminal"
    );
    assert_eq!(home.session("ticker")["status"], "running");
}

#[test]
fn an_attach_without_a_terminal_to_hand_over_is_refused_and_the_session_runs_on() {
    let home = Home::new();
    spawn_ticker(&home);
    let request = ClientMsg::AttachTerminal {
        name: "ticker".into(),
        read_only: false,
        size: Size { cols: 80, rows: 24 },
        detach_key: None,
    };

    let mut wire = Wire::hello(&home);
    wire.send(&request);
    match wire.recv() {
        Some(ServerMsg::Error { message }) => {
            assert!(message.contains("must carry its two fds"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Two fds that are not a terminal.
    let (read, write) = nix::unistd::pipe().expect("pipe");
    let mut wire = Wire::hello(&home);
    wire.send_with_fds(&request, &[&read, &write]);
    match wire.recv() {
        Some(ServerMsg::Error { message }) => {
            assert!(message.contains("not a terminal"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    wait_for_more_ticks(&home);
    assert_eq!(home.session("ticker")["clients"], 0);
}

#[test]
fn the_detach_key_works_while_a_program_not_reading_has_a_pile_of_keys_waiting() {
    let home = Home::new();
    let gate = home.path().join("gate");
    let out = home.path().join("out");
    // Numbered lines typed in 2,500 writes of 100 bytes: what the pty buffers
    // (up to about 68 KiB) plus more writes than the server queues for a program
    // (1,024).
    let chunks: Vec<Vec<u8>> = (0..2500)
        .map(|n| format!("{n:099}\n").into_bytes())
        .collect();
    let volume: usize = chunks.iter().map(Vec::len).sum();
    let script = format!(
        "stty raw -echo; echo READY; \
         while [ ! -e {gate} ]; do sleep 0.01; done; \
         head -c {volume} > {out}; echo DONE",
        gate = gate.display(),
        out = out.display(),
    );
    home.spawn("deaf", &["bash", "-c", &script]);
    let mut term = Term::symp(&home, &["attach", "deaf"], 80, 24);
    term.wait_for_text("READY");

    let typist = term.type_in_background(chunks.clone(), Duration::from_micros(200));
    wait_until("the terminal to take every key", || typist.is_finished());
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from deaf]");

    std::fs::write(&gate, "").expect("gate");
    home.wait_screen("deaf", "DONE");
    let got = std::fs::read(&out).expect("read the program's input");
    assert!(
        got == chunks.concat(),
        "the program read {} bytes, not the {volume} typed, or not in order",
        got.len()
    );
}

#[test]
fn keys_a_program_is_not_reading_are_held_back_not_piled_up_in_the_server() {
    const VOLUME: usize = 16 * 1024 * 1024;
    let home = Home::new();
    // It reads nothing for a while (a busy agent), then all of it.
    let script =
        format!("stty raw -echo; echo READY; sleep 2; head -c {VOLUME} | wc -c; exec sleep 100");
    home.spawn("busy", &["sh", "-c", &script]);
    let term = Term::symp(&home, &["attach", "busy"], 80, 24);
    term.wait_for_text("READY");
    home.wait_clients("busy", 1);
    let server = home.server_pid().expect("server");
    let before = crate::procfs::rss_kib(server).expect("rss");

    let typist = term.type_in_background(
        vec![vec![b'y'; 64 * 1024]; VOLUME / (64 * 1024)],
        Duration::ZERO,
    );
    let mut peak = before;
    wait_until("the program to read everything typed", || {
        peak = peak.max(crate::procfs::rss_kib(server).unwrap_or(0));
        home.ok(&["capture", "busy"]).contains(&VOLUME.to_string())
    });
    typist.join().expect("the typist");
    assert!(
        peak - before < 8 * 1024,
        "the server grew by {} KiB holding keys the program was not reading",
        peak - before
    );
}
