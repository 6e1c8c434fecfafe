//! Input for a program that is not reading waits in the server, without blocking
//! anything, and all of it arrives in order once the program reads.

use crate::harness::{wait_until, Home};

/// Far more than the pty buffers (a few KiB to 64 KiB), so the server's writer
/// must wait for room; and under the kernel's 128 KiB limit on one argument.
const VOLUME: usize = 100_000;

#[test]
fn input_beyond_the_pty_buffer_waits_for_the_program_and_arrives_whole() {
    let home = Home::new();
    let gate = home.path().join("gate");
    let out = home.path().join("out");
    let script = format!(
        "stty raw -echo; echo READY; \
         while [ ! -e {gate} ]; do sleep 0.01; done; \
         head -c {VOLUME} > {out}; echo DONE",
        gate = gate.display(),
        out = out.display(),
    );
    home.spawn("slow", &["bash", "-c", &script]);
    home.wait_screen("slow", "READY");

    // Numbered words, so a lost, repeated or reordered stretch shows.
    let mut text = String::new();
    let mut n = 0;
    while text.len() < VOLUME {
        text.push_str(&format!("{n:07} "));
        n += 1;
    }
    text.truncate(VOLUME);
    home.ok(&["send", "slow", &text]);
    // The server keeps serving while that input waits for the program.
    home.ok(&["capture", "slow"]);

    std::fs::write(&gate, "").expect("gate");
    home.wait_screen("slow", "DONE");
    wait_until("the program's output file", || out.exists());
    let got = std::fs::read_to_string(&out).expect("read the program's input");
    assert!(
        got == text,
        "the program read {} bytes, not the {} sent, or not in order",
        got.len(),
        text.len()
    );
}

#[test]
fn input_still_waiting_when_the_program_dies_is_dropped_and_the_server_goes_on() {
    let home = Home::new();
    home.spawn(
        "deaf",
        &["bash", "-c", "stty raw -echo; echo READY; exec sleep 1000"],
    );
    home.wait_screen("deaf", "READY");
    home.ok(&["send", "deaf", &"x".repeat(VOLUME)]);
    // The writer gives up on a hung-up pty instead of retrying it forever (which
    // held the server's one I/O thread): the server answers, at once. Each
    // command runs as a child we can stop waiting for, so a stuck server fails
    // the test instead of hanging it.
    let answer = |args: &[&str]| -> String {
        let mut child = home
            .command(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run symp");
        wait_until(&format!("symp {args:?} to answer"), || {
            child.try_wait().expect("wait").is_some()
        });
        let mut out = String::new();
        let stdout = child.stdout.as_mut().expect("stdout");
        std::io::Read::read_to_string(stdout, &mut out).expect("read");
        out
    };
    answer(&["kill", "deaf"]);
    wait_until("the program to be killed", || {
        answer(&["list", "--all"]).contains("killed")
    });
    home.spawn("next", &["sh", "-c", "echo NEXT-OK; exec sleep 1000"]);
    home.wait_screen("next", "NEXT-OK");
}

#[test]
fn a_query_asked_while_the_input_queue_is_full_is_still_answered() {
    // A paste of a few MiB into a busy program fills the server's input queue;
    // if the program then asks where the cursor is, it must still get the answer
    // (behind the input queued before it: the program reads up to the `R` that
    // ends it).
    let home = Home::new();
    let gate = home.path().join("gate");
    let script = format!(
        "stty raw -echo; echo READY; \
         while [ ! -e {gate} ]; do sleep 0.01; done; \
         printf '\\033[6n'; IFS= read -r -d R reply; echo; echo ANSWERED",
        gate = gate.display(),
    );
    home.spawn("busy", &["bash", "-c", &script]);
    home.wait_screen("busy", "READY");
    // One long write the program does not read holds the writer...
    home.ok(&["send", "busy", &"x".repeat(VOLUME)]);
    // ...and as many separate writes as the queue holds fill it: this send
    // returns once the last is queued, so the queue is full from then on.
    let mut args = vec!["send", "busy"];
    args.extend(std::iter::repeat_n(["--key", "Space"], QUEUE).flatten());
    home.ok(&args);
    std::fs::write(&gate, "").expect("gate");
    home.wait_screen("busy", "ANSWERED");
}

/// Writes the server's input queue for a session holds (`INPUT_QUEUE`).
const QUEUE: usize = 1024;
