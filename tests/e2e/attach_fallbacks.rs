//! Where the terminal cannot or must not be handed to the server, `symp attach`
//! draws the framed stream itself; and a client stopped from elsewhere gives its
//! terminal back to the shell and shows the session again when continued.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};

use nix::sys::signal::Signal;
use symp_protocol::{ClientMsg, ServerMsg};

use crate::harness::{wait_until, Home, Term, SYMP};
use crate::procfs;

const TICKER: &str = "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.02; done";

fn ticks_in(bytes: &[u8]) -> usize {
    bytes.windows(5).filter(|w| w == b"tick-").count()
}

/// The highest tick on the session's screen.
fn last_tick(home: &Home, name: &str) -> u64 {
    home.ok(&["capture", name])
        .lines()
        .filter_map(|line| line.trim().strip_prefix("tick-")?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// Runs what follows as `nobody` (root only).
const AS_NOBODY: &[&str] = &[
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
];

/// An interactive bash (job control on) in a terminal, prompt `$ `, started
/// through `via` (`AS_NOBODY`, or nothing).
fn job_control_shell(home: &Home, via: &[&str]) -> Term {
    let command: Vec<&str> = via
        .iter()
        .copied()
        .chain(["bash", "--norc", "--noprofile", "-i"])
        .collect();
    let mut cmd = Term::command(home, command[0], &command[1..]);
    cmd.env("PS1", "$ ");
    cmd.env("HISTFILE", "/dev/null");
    cmd.cwd(home.path());
    let term = Term::run(cmd, 80, 24);
    term.wait_for_text("$ ");
    term
}

/// The `symp attach` the shell `shell` runs.
fn attach_client_of(shell: i32) -> i32 {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|&p| {
            procfs::parent_of(p) == Some(shell) && procfs::cmdline(p).iter().any(|a| a == "attach")
        })
        .expect("the attach client")
}

/// `symp attach NAME` typed into a job-control shell, once `marker` is on the
/// screen and the server counts the client; the terminal and the client's pid.
fn attached_from_a_shell(home: &Home, name: &str, marker: &str) -> (Term, i32) {
    let mut term = job_control_shell(home, &[]);
    term.type_str(&format!("'{SYMP}' attach {name}\r"));
    term.wait_for_text(marker);
    home.wait_clients(name, 1);
    let client = attach_client_of(term.pid() as i32);
    (term, client)
}

/// The ticker prints on, and nothing of it reached the terminal after `from`
/// (its raw output's length then), nor did the line `typed-...` typed to the
/// shell reach the session.
fn the_shell_has_the_terminal(home: &Home, term: &Term, from: usize) {
    let tick = last_tick(home, "ticker");
    wait_until("the session to print on", || {
        last_tick(home, "ticker") >= tick + 5
    });
    assert_eq!(
        ticks_in(&term.raw()[from..]),
        0,
        "the session was drawn over the shell"
    );
    assert!(
        !home.ok(&["capture", "ticker"]).contains("typed-"),
        "keys typed to the shell went to the session"
    );
}

/// The ticker's newer lines drawn in the terminal again.
fn shown_again(home: &Home, term: &Term) {
    let back = last_tick(home, "ticker");
    term.wait_for("the session shown again", |s| {
        s.contents()
            .lines()
            .filter_map(|l| l.trim().strip_prefix("tick-")?.parse::<u64>().ok())
            .any(|n| n > back)
    });
}

#[test]
fn a_client_stopped_from_elsewhere_gives_the_terminal_back_and_shows_the_session_again_on_fg() {
    let home = Home::new();
    home.spawn("ticker", &["sh", "-c", TICKER]);
    let (mut term, client) = attached_from_a_shell(&home, "ticker", "tick-");

    procfs::signal(client, Signal::SIGTSTP);
    term.wait_for_text("Stopped");
    home.wait_clients("ticker", 0);
    let at_stop = term.raw().len();
    // The shell has its terminal back: it reads this line, the session does not.
    term.type_str("echo typed-$((1+1))-ahead\r");
    term.wait_for_text("typed-2-ahead");
    the_shell_has_the_terminal(&home, &term, at_stop);

    term.type_str("fg\r");
    home.wait_clients("ticker", 1);
    shown_again(&home, &term);
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from ticker]");
}

/// SIGSTOP cannot be caught: the client stops without giving its terminal
/// back. The shell in front reads the terminal from then on, so the server
/// must neither take its keys nor draw over it, and on `fg` shows the session
/// again.
#[test]
fn a_client_stopped_by_sigstop_leaves_its_shell_the_terminal_until_fg() {
    let home = Home::new();
    home.spawn("ticker", &["sh", "-c", TICKER]);
    let (mut term, client) = attached_from_a_shell(&home, "ticker", "tick-");

    procfs::signal(client, Signal::SIGSTOP);
    term.wait_for_text("Stopped");
    // The shell reads this line, the session does not.
    term.type_str("echo typed-$((1+1))-ahead\r");
    term.wait_for_text("typed-2-ahead");
    let at_answer = term.raw().len();
    the_shell_has_the_terminal(&home, &term, at_answer);

    term.type_str("fg\r");
    shown_again(&home, &term);

    // Again: after a `fg` the server waits for keys, and must still not read
    // the shell's once the client stops a second time.
    procfs::signal(client, Signal::SIGSTOP);
    wait_until("the shell in front again", || {
        procfs::stat_field(client, 8) != procfs::stat_field(client, 5)
    });
    term.type_str("echo again-$((2+2))-ahead\r");
    term.wait_for_text("again-4-ahead");
    assert!(
        !home.ok(&["capture", "ticker"]).contains("again-"),
        "keys typed to the shell after a second stop went to the session"
    );
    term.type_str("fg\r");
    home.wait_clients("ticker", 1);
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from ticker]");
}

/// Continued in the background (`kill -CONT`, or `kill %1`, which sends
/// SIGCONT after SIGTERM), a client stopped by SIGSTOP must not take raw mode
/// back: from the background that stops it again (SIGTTOU), and a SIGTERM
/// would then wait for ever.
#[test]
fn a_client_continued_in_the_background_still_ends_on_sigterm() {
    let home = Home::new();
    home.spawn("ticker", &["sh", "-c", TICKER]);
    let (term, client) = attached_from_a_shell(&home, "ticker", "tick-");

    procfs::signal(client, Signal::SIGSTOP);
    term.wait_for_text("Stopped");
    procfs::signal(client, Signal::SIGCONT);
    wait_until("the client running", || procfs::state(client) != Some('T'));
    procfs::signal(client, Signal::SIGTERM);
    wait_until("the client to end", || !procfs::alive(client));
}

/// Stopped by SIGSTOP, continued in the background (`bg`), then brought to
/// the front: `fg` on a running job sends no SIGCONT, yet the client must
/// take raw mode back, or the detach key is the terminal's SIGQUIT.
#[test]
fn a_client_stopped_then_sent_to_the_background_and_back_detaches_as_usual() {
    let home = Home::new();
    home.spawn("quiet", &["sh", "-c", "echo QUIET-HERE; exec cat"]);
    let (mut term, client) = attached_from_a_shell(&home, "quiet", "QUIET-HERE");

    procfs::signal(client, Signal::SIGSTOP);
    term.wait_for_text("Stopped");
    term.type_str("bg\r");
    wait_until("the client running", || procfs::state(client) != Some('T'));
    term.type_str("fg\r");
    wait_until("the client in front", || {
        procfs::stat_field(client, 8) == procfs::stat_field(client, 5)
    });
    // A key without Enter reaches the session only in raw mode.
    term.type_str("raw-again");
    home.wait_screen("quiet", "raw-again");
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from quiet]");
}

/// A session leader that ignores SIGHUP (`trap '' HUP`) leaves the client
/// unsignalled when the terminal hangs up: the attach must still end, on the
/// hang-up the server reads from the terminal.
const HANGUP_IGNORING_LEADER: &str = r#"
import os, sys, fcntl, termios, select, time
symp, name = sys.argv[1], sys.argv[2]
master, slave = os.openpty()
child = os.fork()
if child == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(master)
    os.execvp("sh", ["sh", "-c", "trap '' HUP; \"$0\" attach \"$1\"; exit 0", symp, name])
os.close(slave)
seen = b""
deadline = time.time() + 20
while b"QUIET-SESSION" not in seen and time.time() < deadline:
    if select.select([master], [], [], 0.1)[0]:
        try:
            seen += os.read(master, 65536)
        except OSError:
            break
time.sleep(0.3)
os.close(master)
os.waitpid(child, 0)
"#;

#[test]
fn an_attach_ends_when_its_terminal_hangs_up_under_a_leader_ignoring_sighup() {
    let home = Home::new();
    home.spawn("quiet", &["sh", "-c", "echo QUIET-SESSION; exec cat"]);
    let leader = crate::harness::script(&home, "leader.py", HANGUP_IGNORING_LEADER);
    let mut run = std::process::Command::new(crate::harness::python())
        .arg(&leader)
        .args([SYMP, "quiet"])
        .env("SYMP_HOME", home.path())
        .env("TERM", "xterm-256color")
        .env_remove("SYMP_SESSION")
        .spawn()
        .expect("run the leader");
    home.wait_clients("quiet", 1);
    // The leader closes the terminal, then waits for its shell to end.
    wait_until("the attach to end", || {
        home.session("quiet")["clients"] == 0
    });
    let status = run.wait().expect("the leader");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_foreground_server_run_as_a_job_in_the_attaching_terminal_keeps_serving() {
    let home = Home::new();
    let mut term = job_control_shell(&home, &[]);
    // Markers the typed command line does not show: the shell echoes it.
    let session = "echo $((6*7))-ready; read line; echo \"got:$line\"; exec sleep 100";
    term.type_str(&format!(
        "'{SYMP}' server start --foreground >/dev/null 2>&1 &\r\
         while [ ! -S \"$SYMP_HOME/symp.sock\" ]; do sleep 0.05; done; \
         '{SYMP}' spawn --name reader -- sh -c '{session}'; '{SYMP}' attach reader\r"
    ));
    wait_until("the foreground server", || {
        procfs::servers_for(home.path()).len() == 1
    });
    let _kill = procfs::KillOnDrop::new(&procfs::servers_for(home.path()));
    term.wait_for_text("42-ready");
    home.wait_clients("reader", 1);

    // Its controlling terminal is this one: reading keys from it in the
    // background would have stopped it (SIGTTIN), and every session with it.
    term.type_str("hello\r");
    term.wait_for_text("got:hello");
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from reader]");
}

/// `su`/`setpriv` to another user in someone else's terminal: stdin and stdout
/// work, but the device cannot be opened again (0620 root:tty). Needs root.
#[test]
fn attach_works_in_a_terminal_it_may_not_open_again() {
    if !crate::harness::can_switch_users() {
        return;
    }
    let home = Home::new();
    let nobody = 65534;
    crate::harness::hand_over(home.path(), nobody);
    let script = format!(
        "'{SYMP}' spawn --name t -- sh -c 'echo HELLO-THERE; read line; echo \"got:$line\"; exec sleep 100' >/dev/null; \
         '{SYMP}' attach t; echo \"[back rc=$?]\"; exec sleep 100"
    );
    let command: Vec<&str> = AS_NOBODY
        .iter()
        .copied()
        .chain(["sh", "-c", &script])
        .collect();
    let mut cmd = Term::command(&home, command[0], &command[1..]);
    cmd.cwd(home.path());
    let mut term = Term::run(cmd, 80, 24);
    wait_until("the server", || {
        !procfs::servers_for(home.path()).is_empty()
    });
    let _kill = procfs::KillOnDrop::new(&procfs::servers_for(home.path()));
    term.wait_for("the session's picture or the client's end", |s| {
        s.contents().contains("HELLO-THERE") || s.contents().contains("[back rc=")
    });
    assert!(
        !term.text().contains("[back rc="),
        "attach failed:\n{}",
        term.text()
    );
    term.type_str("typed\r");
    term.wait_for_text("got:typed");
    term.type_bytes(b"\x1c");
    term.wait_for_text("[back rc=0]");
}

fn read_frame(stream: &mut UnixStream) -> Option<ClientMsg> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).ok()?;
    let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut payload).ok()?;
    symp_protocol::decode(&payload).ok()
}

fn write_frame(stream: &mut UnixStream, msg: &ServerMsg) {
    let _ = stream.write_all(&symp_protocol::frame(msg).expect("encode"));
}

/// After an upgrade the running server is the old binary: the same protocol
/// version, no `AttachTerminal`, which it refuses as a malformed frame (its
/// words below). The new client must still reach the agents running there.
#[test]
fn attach_falls_back_to_the_framed_stream_with_a_server_from_before_the_handover() {
    let home = Home::new();
    let listener = UnixListener::bind(home.socket()).expect("bind");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let Some(ClientMsg::Hello { version }) = read_frame(&mut stream) else {
                    return;
                };
                let server_pid = std::process::id();
                write_frame(
                    &mut stream,
                    &ServerMsg::Welcome {
                        version,
                        server_pid,
                    },
                );
                match read_frame(&mut stream) {
                    Some(ClientMsg::Attach { .. }) => {
                        let picture = b"OLD-SERVER-PICTURE".to_vec();
                        write_frame(&mut stream, &ServerMsg::Snapshot(picture.into()));
                        // Until the client goes.
                        while read_frame(&mut stream).is_some() {}
                    }
                    _ => write_frame(
                        &mut stream,
                        &ServerMsg::Error {
                            message: "malformed frame: Serde Deserialization Error: \
                                      Serde Deserialization Error"
                                .into(),
                        },
                    ),
                }
            });
        }
    });
    let term = Term::symp(&home, &["attach", "agent"], 80, 24);
    term.wait_for("the old server's picture or an error", |s| {
        s.contents().contains("OLD-SERVER-PICTURE") || s.contents().contains("symp:")
    });
    assert!(
        term.text().contains("OLD-SERVER-PICTURE"),
        "{}",
        term.text()
    );
}

/// Whether `pid` holds a socket (a client that has connected).
fn has_socket(pid: i32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten().any(|fd| {
                std::fs::read_link(fd.path())
                    .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
            })
        })
        .unwrap_or(false)
}

#[test]
fn sigterm_ends_an_attach_whose_server_does_not_answer_with_the_terminal_given_back() {
    let home = Home::new();
    home.spawn("t", &["sleep", "1000"]);
    let server = home.server_pid().expect("server");
    // A server that takes the connection and never answers: stopped.
    procfs::signal(server, Signal::SIGSTOP);
    struct Continue(i32);
    impl Drop for Continue {
        fn drop(&mut self) {
            procfs::signal(self.0, Signal::SIGCONT);
        }
    }
    let _continue = Continue(server);
    let mut term = Term::symp(&home, &["attach", "t"], 80, 24);
    let client = term.pid() as i32;
    wait_until("the client to connect", || has_socket(client));

    procfs::signal(client, Signal::SIGTERM);
    term.wait_exit();
}

#[test]
fn sigtstp_without_a_job_control_shell_leaves_the_client_attached() {
    let home = Home::new();
    home.spawn(
        "t",
        &[
            "sh",
            "-c",
            "echo READY-$((1+1)); while read l; do echo \"got:$l\"; done",
        ],
    );
    // The client leads its own session: nothing could continue it once stopped.
    let mut term = Term::symp(&home, &["attach", "t"], 80, 24);
    term.wait_for_text("READY-2");
    home.wait_clients("t", 1);
    let client = term.pid() as i32;

    procfs::signal(client, Signal::SIGTSTP);
    term.type_str("hi\r");
    term.wait_for_text("got:hi");
    term.type_str("again\r");
    term.wait_for_text("got:again");
    assert_ne!(procfs::state(client), Some('T'), "stopped for good");
    assert_eq!(home.session("t")["clients"], 1);
}

/// `symp ARGS` run as `nobody`, whose server that is; its stdout.
fn as_nobody(home: &Home, args: &[&str]) -> String {
    let output = std::process::Command::new(AS_NOBODY[0])
        .args(&AS_NOBODY[1..])
        .arg(SYMP)
        .args(args)
        .env("SYMP_HOME", home.path())
        .env_remove("SYMP_SESSION")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run symp as nobody");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn clients_as_nobody(home: &Home, name: &str) -> u64 {
    let list: serde_json::Value =
        serde_json::from_str(&as_nobody(home, &["list", "--all", "--json"])).unwrap_or_default();
    list.as_array()
        .and_then(|sessions| sessions.iter().find(|s| s["name"] == name))
        .and_then(|s| s["clients"].as_u64())
        .unwrap_or(0)
}

/// The framed client after `su` reads keys on a thread (the terminal cannot be
/// opened again, non-blocking); after a suspend the attach must go on with that
/// same reader, or a second one loses what the first takes. Needs root.
#[test]
fn after_a_resume_the_framed_client_loses_no_keys() {
    if !crate::harness::can_switch_users() {
        return;
    }
    let home = Home::new();
    crate::harness::hand_over(home.path(), 65534);
    as_nobody(
        &home,
        &[
            "spawn",
            "--name",
            "t",
            "--",
            "sh",
            "-c",
            "echo HELLO-THERE; while read line; do echo \"got:$line\"; done",
        ],
    );
    let _kill = procfs::KillOnDrop::new(&procfs::servers_for(home.path()));
    // A job-control shell as nobody, in root's terminal.
    let mut term = job_control_shell(&home, AS_NOBODY);
    term.type_str(&format!("'{SYMP}' attach t\r"));
    term.wait_for_text("HELLO-THERE");
    wait_until("the client", || clients_as_nobody(&home, "t") == 1);
    let client = attach_client_of(term.pid() as i32);

    procfs::signal(client, Signal::SIGTSTP);
    term.wait_for_text("Stopped");
    wait_until("the client to leave", || clients_as_nobody(&home, "t") == 0);
    term.type_str("fg\r");
    wait_until("the client back", || clients_as_nobody(&home, "t") == 1);
    term.type_str("one\r");
    term.wait_for_text("got:one");
    term.type_str("two\r");
    term.wait_for_text("got:two");
}

/// A job-control "shell" for one client: runs `symp attach t` in its own
/// process group in the foreground, and on SIGUSR1 takes the terminal back and
/// hangs the client up, as bash does when it is hung up itself; then says how
/// the client ended (and kills it if it stopped, so nothing is left behind).
const HANGING_UP_SHELL: &str = r#"
import os, signal, sys
symp = sys.argv[1]
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
read_end, write_end = os.pipe()
client = os.fork()
if client == 0:
    os.setpgid(0, 0)
    os.read(read_end, 1)
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execv(symp, [symp, "attach", "t"])
os.setpgid(client, client)
os.tcsetpgrp(0, client)
os.write(write_end, b"g")
def hang_up(*_):
    os.tcsetpgrp(0, os.getpgrp())
    os.kill(client, signal.SIGHUP)
signal.signal(signal.SIGUSR1, hang_up)
print("SHELL-PID", os.getpid(), flush=True)
_, status = os.waitpid(client, os.WUNTRACED)
if os.WIFSTOPPED(status):
    os.kill(client, signal.SIGKILL)
    os.waitpid(client, 0)
    print("CLIENT-STOPPED", flush=True)
else:
    print("CLIENT-ENDED", flush=True)
"#;

/// A client hung up after its shell took the terminal back gives the terminal
/// back from the background: it must end, not stop for good (SIGTTOU) with
/// nobody left to continue it.
#[test]
fn a_client_hung_up_after_its_shell_took_the_terminal_back_ends() {
    let home = Home::new();
    home.spawn("t", &["sh", "-c", "echo ATTACHED-HERE; exec cat"]);
    let shell = crate::harness::script(&home, "shell.py", HANGING_UP_SHELL);
    let mut cmd = Term::command(
        &home,
        crate::harness::python(),
        &[shell.to_str().expect("utf8"), SYMP],
    );
    cmd.cwd(home.path());
    let term = Term::run(cmd, 80, 24);
    term.wait_for_text("ATTACHED-HERE");
    home.wait_clients("t", 1);
    procfs::signal(term.pid() as i32, Signal::SIGUSR1);
    term.wait_for("the client's end", |s| s.contents().contains("CLIENT-"));
    assert!(
        term.text().contains("CLIENT-ENDED"),
        "the client stopped in the background:\n{}",
        term.text()
    );
}
