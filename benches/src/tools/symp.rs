//! symp under test: the release binary, a private SYMP_HOME, and a server run in
//! the foreground as our own child so its pid is the one we measure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use portable_pty::CommandBuilder;
use tempfile::TempDir;

use super::Multiplexer;
use crate::plan::{COLS, ROWS, SCROLLBACK_LINES, TERM};
use crate::process::{kill_hard, run_checked};
use crate::wait::wait_until;

/// Any one symp command (spawn, list, stop) must finish within this.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SympServer {
    exe: PathBuf,
    home: TempDir,
    server: Child,
}

impl SympServer {
    pub fn start(exe: &Path) -> Result<Self> {
        // Short path: a Unix socket path must fit in 108 bytes.
        let home = tempfile::Builder::new()
            .prefix("symp-b")
            .tempdir_in("/tmp")
            .context("cannot make a SYMP_HOME")?;
        let server = Command::new(exe)
            .args(["server", "start", "--foreground"])
            .env("SYMP_HOME", home.path())
            .env("TERM", TERM)
            .env_remove("SYMP_SESSION")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let this = Self {
            exe: exe.to_owned(),
            home,
            server,
        };
        wait_until(
            "the symp server to answer",
            COMMAND_TIMEOUT,
            Duration::from_millis(5),
            || Ok(this.command(&["server", "status"]).status()?.success()),
        )?;
        Ok(this)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .env("SYMP_HOME", self.home.path())
            .env("TERM", TERM)
            .env_remove("SYMP_SESSION")
            .env_remove("TMUX")
            .current_dir(self.home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }
}

impl Multiplexer for SympServer {
    fn spawn_session(&self, name: &str, script: &str) -> Result<()> {
        let size = format!("{COLS}x{ROWS}");
        let scrollback = SCROLLBACK_LINES.to_string();
        run_checked(
            &mut self.command(&[
                "spawn",
                "--name",
                name,
                "--size",
                &size,
                "--scrollback",
                &scrollback,
                "--",
                "sh",
                "-c",
                script,
            ]),
            COMMAND_TIMEOUT,
        )?;
        Ok(())
    }

    fn attach_command(&self, name: &str) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(&self.exe);
        cmd.args(["attach", name]);
        cmd.env("SYMP_HOME", self.home.path());
        cmd.env("TERM", TERM);
        cmd.env_remove("SYMP_SESSION");
        cmd.env_remove("TMUX");
        cmd.cwd(self.home.path());
        cmd
    }

    fn screen_text(&self, name: &str) -> Result<String> {
        let out = run_checked(&mut self.command(&["capture", name]), COMMAND_TIMEOUT)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn client_count(&self, name: &str) -> Result<usize> {
        let out = run_checked(&mut self.command(&["list", "--json"]), COMMAND_TIMEOUT)?;
        let sessions: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("bad `symp list --json`")?;
        let clients = sessions
            .as_array()
            .and_then(|all| all.iter().find(|s| s["name"] == name))
            .and_then(|s| s["clients"].as_u64())
            .with_context(|| format!("no session {name} in `symp list --json`"))?;
        Ok(clients as usize)
    }

    fn server_pid(&self) -> Result<u32> {
        Ok(self.server.id())
    }
}

impl Drop for SympServer {
    fn drop(&mut self) {
        let _ = run_checked(&mut self.command(&["server", "stop"]), COMMAND_TIMEOUT);
        let exited = wait_until(
            "the symp server to exit",
            Duration::from_secs(10),
            Duration::from_millis(5),
            || Ok(self.server.try_wait()?.is_some()),
        );
        if exited.is_err() {
            eprintln!("  note: symp server did not stop; killing it");
            kill_hard(self.server.id());
            let _ = self.server.wait();
        }
    }
}
