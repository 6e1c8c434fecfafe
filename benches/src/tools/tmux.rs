//! tmux under test: a private socket (`-S`), no user config (`-f /dev/null`), and
//! options set to match symp: 10,000 lines of history, no status line (so the pane
//! is the whole 120x40 terminal), and truecolour passed through to the client.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use portable_pty::CommandBuilder;
use tempfile::TempDir;

use super::Multiplexer;
use crate::plan::{COLS, ROWS, SCROLLBACK_LINES, TERM};
use crate::process::{is_alive, kill_hard, run_checked};
use crate::wait::wait_until;

const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

pub struct TmuxServer {
    exe: PathBuf,
    dir: TempDir,
    /// Whether the server runs and has our options set.
    started: Cell<bool>,
}

/// The tmux on PATH, if any.
pub fn find_tmux() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("tmux"))
        .find(|candidate| candidate.is_file())
}

impl TmuxServer {
    /// Prepares a private socket; the server itself starts with the first session.
    pub fn new(exe: &Path) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("tmux-b")
            .tempdir_in("/tmp")
            .context("cannot make a tmux socket directory")?;
        Ok(Self {
            exe: exe.to_owned(),
            dir,
            started: Cell::new(false),
        })
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("-S")
            .arg(self.socket())
            .args(["-f", "/dev/null"])
            .args(args)
            .env("TERM", TERM)
            .env_remove("TMUX")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    fn query(&self, args: &[&str]) -> Result<String> {
        let out = run_checked(&mut self.command(args), COMMAND_TIMEOUT)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Multiplexer for TmuxServer {
    fn spawn_session(&self, name: &str, script: &str) -> Result<()> {
        let (cols, rows) = (COLS.to_string(), ROWS.to_string());
        let history = SCROLLBACK_LINES.to_string();
        // Several arguments after new-session are exec'd without a shell, just as
        // symp and the bare pty run them.
        let new_session = [
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &cols,
            "-y",
            &rows,
            "sh",
            "-c",
            script,
        ];
        let mut args: Vec<&str> = Vec::new();
        if !self.started.replace(true) {
            // One command list, so the options exist before the first pane does
            // (history-limit applies to panes made after it is set).
            args.extend([
                "start-server",
                ";",
                "set-option",
                "-g",
                "history-limit",
                &history,
                ";",
                "set-option",
                "-g",
                "status",
                "off",
                ";",
                "set-option",
                "-as",
                "terminal-features",
                ",xterm-256color:RGB",
                ";",
            ]);
        }
        args.extend(new_session);
        run_checked(&mut self.command(&args), COMMAND_TIMEOUT)?;
        Ok(())
    }

    fn attach_command(&self, name: &str) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(&self.exe);
        cmd.arg("-S");
        cmd.arg(self.socket());
        cmd.args(["-f", "/dev/null", "attach-session", "-t", name]);
        cmd.env("TERM", TERM);
        cmd.env_remove("TMUX");
        cmd.cwd(self.dir.path());
        cmd
    }

    fn screen_text(&self, name: &str) -> Result<String> {
        self.query(&["capture-pane", "-p", "-t", name])
    }

    fn client_count(&self, name: &str) -> Result<usize> {
        let clients = self.query(&["list-clients", "-t", name, "-F", "#{client_name}"])?;
        Ok(clients.lines().filter(|l| !l.is_empty()).count())
    }

    fn server_pid(&self) -> Result<u32> {
        let pid = self.query(&["display-message", "-p", "#{pid}"])?;
        pid.trim()
            .parse()
            .with_context(|| format!("bad tmux server pid {pid:?}"))
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        if !self.started.get() {
            return;
        }
        let pid = self.server_pid().ok();
        let _ = run_checked(&mut self.command(&["kill-server"]), COMMAND_TIMEOUT);
        let Some(pid) = pid else { return };
        let gone = wait_until(
            "the tmux server to exit",
            Duration::from_secs(10),
            Duration::from_millis(5),
            || Ok(!is_alive(pid)),
        );
        if gone.is_err() {
            eprintln!("  note: tmux server did not stop; killing it");
            kill_hard(pid);
        }
    }
}
