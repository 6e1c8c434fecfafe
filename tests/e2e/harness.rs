//! Test side of the end-to-end suite: a private SYMP_HOME per test, the real `symp`
//! binary, and terminals (real ptys) whose picture we read through our own vt100.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
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

    pub fn server_pid(&self) -> Option<i32> {
        let out = self.run(&["server", "status"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let pid = text.split("pid ").nth(1)?.split([',', ')']).next()?;
        pid.trim().parse().ok()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let pid = self.server_pid();
        let _ = self.run(&["server", "stop"]);
        if let Some(pid) = pid {
            // Belt and braces: never leave a server behind a failed test.
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A terminal emulator: a pty running a command, and what it shows.
pub struct Term {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Term {
    /// Runs `symp ARGS` in a new terminal of the given size.
    pub fn symp(home: &Home, args: &[&str], cols: u16, rows: u16) -> Self {
        let mut cmd = CommandBuilder::new(SYMP);
        cmd.args(args);
        cmd.env("SYMP_HOME", home.path());
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SYMP_SESSION");
        Self::run(cmd, cols, rows)
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
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().expect("screen").process(&buf[..n]);
                r.lock().expect("raw").extend_from_slice(&buf[..n]);
            }
        });
        let writer = pair.master.take_writer().expect("writer");
        Self {
            master: pair.master,
            writer,
            child,
            screen,
            raw,
        }
    }

    pub fn type_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("type");
        self.writer.flush().expect("flush");
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
        wait_until(&format!("{needle:?} on screen"), || {
            self.text().contains(needle)
        });
    }

    pub fn wait_for(&self, what: &str, mut cond: impl FnMut(&vt100::Screen) -> bool) {
        wait_until(what, || self.with_screen(&mut cond));
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

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("non-zero size")
}

/// Path of a helper script written into the home directory.
pub fn script(home: &Home, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = home.path().join(name);
    std::fs::write(&path, body).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}
