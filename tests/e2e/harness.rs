//! Test side of the end-to-end suite: a private SYMP_HOME per test, the real `symp`
//! binary, and terminals (real ptys) whose picture we read through our own vt100.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

pub const SYMP: &str = env!("CARGO_BIN_EXE_symp");
/// Generous: the machines running this are shared and slow at times.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// Polls `cond` until it holds or `TIMEOUT` passes; the message says what we waited for.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether this test may switch users (it runs as root); says it is skipped
/// otherwise.
pub fn can_switch_users() -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        eprintln!("skipped: needs root to switch users");
    }
    root
}

/// Hands `dir` to user and group `id` (root only), so a symp run as that user
/// can keep its home there.
pub fn hand_over(dir: &Path, id: u32) {
    nix::unistd::chown(
        dir,
        Some(nix::unistd::Uid::from_raw(id)),
        Some(nix::unistd::Gid::from_raw(id)),
    )
    .expect("chown");
}

/// A private SYMP_HOME; dropping it stops its server and every program in it.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        // Short paths: a Unix socket path must fit in 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("symp-t")
            .tempdir_in("/tmp")
            .expect("temp dir");
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(SYMP);
        cmd.args(args)
            .env("SYMP_HOME", self.path())
            .env_remove("SYMP_SESSION")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `symp ARGS` without a terminal and returns what it printed.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run symp")
    }

    /// Runs `symp ARGS` and insists it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "symp {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Spawns CMD as session NAME at 80x24.
    pub fn spawn(&self, name: &str, cmd: &[&str]) {
        let mut args = vec!["spawn", "--name", name, "--size", "80x24", "--"];
        args.extend_from_slice(cmd);
        self.ok(&args);
    }

    /// Spawns an interactive bash with the prompt `$ ` as session NAME at 80x24.
    pub fn spawn_shell(&self, name: &str) {
        self.ok(&[
            "spawn",
            "--name",
            name,
            "--size",
            "80x24",
            "--env",
            "PS1=$ ",
            "--env",
            "HISTFILE=/dev/null",
            "--",
            "bash",
            "--norc",
            "--noprofile",
            "-i",
        ]);
    }

    /// `symp list --json --all`, parsed.
    pub fn list(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.ok(&["list", "--json", "--all"])).expect("list json")
    }

    pub fn session(&self, name: &str) -> serde_json::Value {
        self.list()
            .into_iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no session {name}"))
    }

    /// Names in `symp list --json` (with `--all` when `all`).
    pub fn names(&self, all: bool) -> Vec<String> {
        let args: &[&str] = if all {
            &["list", "--json", "--all"]
        } else {
            &["list", "--json"]
        };
        let list: Vec<serde_json::Value> = serde_json::from_str(&self.ok(args)).expect("list json");
        list.iter()
            .map(|s| s["name"].as_str().expect("name").to_owned())
            .collect()
    }

    /// The program's pid as `list` reports it.
    pub fn pid(&self, name: &str) -> i32 {
        let pid = self.session(name)["pid"].as_i64().expect("pid");
        i32::try_from(pid).expect("pid fits")
    }

    /// Waits until `list` shows NAME with this status word; returns its row.
    pub fn wait_status(&self, name: &str, status: &str) -> serde_json::Value {
        let mut row = serde_json::Value::Null;
        wait_until(&format!("{name} to be {status}"), || {
            row = self.session(name);
            row["status"] == status
        });
        row
    }

    /// Waits until `list` counts this many clients attached to NAME.
    pub fn wait_clients(&self, name: &str, clients: u64) {
        wait_until(&format!("{clients} clients on {name}"), || {
            self.session(name)["clients"] == clients
        });
    }

    /// Waits until `symp capture NAME` (the server's own screen) shows `needle`.
    pub fn wait_screen(&self, name: &str, needle: &str) {
        wait_until(&format!("{needle:?} on {name}'s screen"), || {
            self.ok(&["capture", name]).contains(needle)
        });
    }

    pub fn socket(&self) -> PathBuf {
        self.path().join("symp.sock")
    }

    pub fn server_pid(&self) -> Option<i32> {
        let out = self.run(&["server", "status"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let pid = text.split("pid ").nth(1)?.split([',', ')']).next()?;
        pid.trim().parse().ok()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The server's own account of a failed test, before the directory goes.
            let log = std::fs::read_to_string(self.path().join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("--- server.log (last lines) ---\n{}", tail.join("\n"));
        }
        // Found through /proc, not asked over the socket: a stuck server would not answer.
        let servers = crate::procfs::servers_for(self.path());
        // With a deadline: a server stuck by a bug must fail its test, not hang it.
        if let Ok(mut stop) = self
            .command(&["server", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            let deadline = Instant::now() + TIMEOUT;
            while matches!(stop.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = stop.kill();
            let _ = stop.wait();
        }
        for pid in servers {
            // Belt and braces: never leave a server behind a failed test.
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A terminal emulator: a pty running a command, and what it shows. Like a real
/// terminal it answers the queries programs send it (device attributes, status,
/// cursor position), so a reply that should not be there is visible to the program.
pub struct Term {
    master: Box<dyn MasterPty + Send>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// While set, nobody reads the pty: the program writing to it blocks, like a
    /// terminal window that froze.
    paused: Arc<AtomicBool>,
}

impl Term {
    /// Runs `symp ARGS` in a new terminal of the given size.
    /// `symp attach NAME` in a COLSxROWS terminal, once the shell's `$ ` prompt
    /// (see `Home::spawn_shell`) is on its screen.
    pub fn attach_at_prompt(home: &Home, name: &str, cols: u16, rows: u16) -> Self {
        let term = Self::symp(home, &["attach", name], cols, rows);
        term.wait_for_text("$ ");
        term
    }

    pub fn symp(home: &Home, args: &[&str], cols: u16, rows: u16) -> Self {
        Self::run(Self::command(home, SYMP, args), cols, rows)
    }

    /// `PROGRAM ARGS` for `run`, with `home` as its SYMP_HOME, an xterm's TERM,
    /// and not inside any session.
    pub fn command(home: &Home, program: &str, args: &[&str]) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("SYMP_HOME", home.path());
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SYMP_SESSION");
        cmd
    }

    pub fn run(cmd: CommandBuilder, cols: u16, rows: u16) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open pty");
        let child = pair.slave.spawn_command(cmd).expect("spawn in pty");
        drop(pair.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 5000)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let paused = Arc::new(AtomicBool::new(false));
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("writer")));
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let (s, r, p, w) = (screen.clone(), raw.clone(), paused.clone(), writer.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                while p.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let bytes = &buf[..n];
                r.lock().expect("raw").extend_from_slice(bytes);
                let mut parser = s.lock().expect("screen");
                let mut done = 0;
                for (end, query) in find_queries(bytes) {
                    parser.process(&bytes[done..end]);
                    done = end;
                    let reply = query.reply(parser.screen().cursor_position());
                    let mut w = w.lock().expect("writer");
                    let _ = w.write_all(&reply).and_then(|()| w.flush());
                }
                parser.process(&bytes[done..]);
            }
        });
        Self {
            master: pair.master,
            writer,
            child,
            screen,
            raw,
            paused,
        }
    }

    pub fn type_bytes(&mut self, bytes: &[u8]) {
        let mut writer = self.writer.lock().expect("writer");
        writer.write_all(bytes).expect("type");
        writer.flush().expect("flush");
    }

    /// Types `chunks`, one write each, `pace` apart (a typist's pace, so that each
    /// arrives as a read of its own), from a thread: typing into a terminal nobody
    /// reads blocks, and a test must be able to time out instead.
    pub fn type_in_background(
        &self,
        chunks: Vec<Vec<u8>>,
        pace: Duration,
    ) -> std::thread::JoinHandle<()> {
        let writer = self.writer.clone();
        std::thread::spawn(move || {
            for chunk in chunks {
                let mut writer = writer.lock().expect("writer");
                writer.write_all(&chunk).expect("type");
                writer.flush().expect("flush");
                drop(writer);
                std::thread::sleep(pace);
            }
        })
    }

    /// Stops reading the pty (a frozen terminal); what the program writes piles up.
    pub fn pause_reading(&self) {
        self.paused.store(true, Ordering::Relaxed);
    }

    pub fn resume_reading(&self) {
        self.paused.store(false, Ordering::Relaxed);
    }

    pub fn type_str(&mut self, text: &str) {
        self.type_bytes(text.as_bytes());
    }

    /// The visible text, rows joined by newlines, trailing blanks trimmed.
    pub fn text(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(self.screen.lock().expect("screen").screen())
    }

    /// Everything the program ever wrote to this terminal, unparsed.
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().expect("raw").clone()
    }

    pub fn wait_for_text(&self, needle: &str) {
        self.wait_for(&format!("{needle:?} on screen"), |s| {
            s.contents().contains(needle)
        });
    }

    /// Waits until the screen satisfies `cond`; a timeout shows what the screen had.
    pub fn wait_for(&self, what: &str, cond: impl FnMut(&vt100::Screen) -> bool) {
        self.wait_for_within(TIMEOUT, what, cond);
    }

    /// `wait_for` with a time limit of its own, for work that scales with its input.
    pub fn wait_for_within(
        &self,
        limit: Duration,
        what: &str,
        mut cond: impl FnMut(&vt100::Screen) -> bool,
    ) {
        let deadline = Instant::now() + limit;
        while !self.with_screen(&mut cond) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen shows:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Lines in this terminal's own scrollback, oldest first.
    pub fn scrollback_lines(&self) -> Vec<String> {
        let mut parser = self.screen.lock().expect("screen");
        let cols = parser.screen().size().1.get();
        let len = {
            parser.screen_mut().set_scrollback(usize::MAX);
            parser.screen().scrollback()
        };
        let mut lines = Vec::new();
        for offset in (1..=len).rev() {
            parser.screen_mut().set_scrollback(offset);
            lines.push(parser.screen().rows(0, cols).next().unwrap_or_default());
        }
        parser.screen_mut().set_scrollback(0);
        lines
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize");
        self.screen
            .lock()
            .expect("screen")
            .set_size(nz(rows), nz(cols));
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("pid")
    }

    /// Waits for the command in this terminal to exit; returns its exit code.
    pub fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.exit_code();
            }
            assert!(
                Instant::now() < deadline,
                "terminal command did not exit; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A query a terminal answers, as a real xterm-like terminal would.
#[derive(Clone, Copy)]
enum TermQuery {
    PrimaryAttributes,
    SecondaryAttributes,
    Status,
    CursorPosition,
}

impl TermQuery {
    fn reply(self, (row, col): (u16, u16)) -> Vec<u8> {
        match self {
            TermQuery::PrimaryAttributes => b"\x1b[?64;1;22c".to_vec(),
            TermQuery::SecondaryAttributes => b"\x1b[>41;380;0c".to_vec(),
            TermQuery::Status => b"\x1b[0n".to_vec(),
            TermQuery::CursorPosition => format!("\x1b[{};{}R", row + 1, col + 1).into_bytes(),
        }
    }
}

/// Queries in `bytes`, each with the offset just past it. (A query split across two
/// reads goes unanswered; programs under test write theirs in one piece.)
fn find_queries(bytes: &[u8]) -> Vec<(usize, TermQuery)> {
    const QUERIES: [(&[u8], TermQuery); 6] = [
        (b"\x1b[c", TermQuery::PrimaryAttributes),
        (b"\x1b[0c", TermQuery::PrimaryAttributes),
        (b"\x1b[>c", TermQuery::SecondaryAttributes),
        (b"\x1b[>0c", TermQuery::SecondaryAttributes),
        (b"\x1b[5n", TermQuery::Status),
        (b"\x1b[6n", TermQuery::CursorPosition),
    ];
    let mut found = Vec::new();
    for (at, _) in bytes.iter().enumerate().filter(|(_, &b)| b == 0x1b) {
        if let Some((q, query)) = QUERIES.iter().find(|(q, _)| bytes[at..].starts_with(q)) {
            found.push((at + q.len(), *query));
        }
    }
    found
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("non-zero size")
}

/// A python3 that starts fast (not a version-manager shim), for test programs.
pub fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Path of a helper script written into the home directory.
pub fn script(home: &Home, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = home.path().join(name);
    std::fs::write(&path, body).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}
