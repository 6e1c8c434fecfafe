//! `symp logs`: what a session's program wrote, from its start, as plain lines or
//! the exact bytes, followed as it grows, and gone with `rm`.

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use crate::harness::{wait_until, Home};

#[test]
fn logs_print_plain_lines_or_the_exact_bytes_even_after_the_end() {
    let home = Home::new();
    home.spawn(
        "printer",
        &[
            "sh",
            "-c",
            r"printf '\033[1;31mred\033[m line\n50%%\r100%% done\n'; exit 3",
        ],
    );
    home.wait_status("printer", "exited");
    wait_until("the transcript to hold everything", || {
        home.ok(&["logs", "printer"]).contains("done")
    });
    assert_eq!(home.ok(&["logs", "printer"]), "red line\n100% done\n");
    let raw = home.run(&["logs", "printer", "--raw"]);
    assert!(raw.status.success());
    // The pty turned each newline into CR LF, as a terminal would get it.
    assert_eq!(
        raw.stdout,
        b"\x1b[1;31mred\x1b[m line\r\n50%\r100% done\r\n".to_vec()
    );
}

#[test]
fn logs_follow_prints_output_as_it_comes_and_ends_with_the_session() {
    let home = Home::new();
    home.spawn(
        "echoer",
        &[
            "bash",
            "-c",
            r#"while read -r l; do echo "got $l"; [ "$l" = end ] && exit 0; done"#,
        ],
    );
    let mut follower = home
        .command(&["logs", "echoer", "--follow"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start symp logs --follow");
    let printed = Arc::new(Mutex::new(String::new()));
    let reader = {
        let (printed, mut stdout) = (printed.clone(), follower.stdout.take().expect("stdout"));
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                printed
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    home.ok(&["send", "echoer", "one", "--key", "Enter"]);
    wait_until("the follower to print the first line", || {
        printed.lock().unwrap().contains("got one")
    });
    home.ok(&["send", "echoer", "end", "--key", "Enter"]);
    wait_until("the follower to end with the session", || {
        follower.try_wait().expect("wait").is_some()
    });
    reader.join().expect("reader");
    let printed = printed.lock().unwrap().clone();
    assert!(
        printed.ends_with("got end\n"),
        "follower printed {printed:?}"
    );
    assert_eq!(
        printed.matches("got one").count(),
        1,
        "follower printed {printed:?}"
    );
}

#[test]
fn logs_of_an_unknown_or_removed_session_is_a_clear_error() {
    let home = Home::new();
    let out = home.run(&["logs", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "symp: no session named nobody\n"
    );

    home.spawn("brief", &["sh", "-c", "echo bye"]);
    home.wait_status("brief", "exited");
    let transcript = home.path().join("transcripts").join("brief.log");
    wait_until("the transcript file", || transcript.exists());
    home.ok(&["rm", "brief"]);
    wait_until("the transcript to go with the session", || {
        !transcript.exists()
    });
    let out = home.run(&["logs", "brief"]);
    assert_eq!(out.status.code(), Some(1));
}
