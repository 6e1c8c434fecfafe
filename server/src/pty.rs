//! Starting a program in a new pseudo-terminal, with clear errors for every way
//! it can fail to start, before anything is left behind.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use portable_pty::{native_pty_system, CommandBuilder, MasterPty, PtySize};
use symp_protocol::{Size, SpawnRequest};

use crate::login_env;
use crate::pty_fd::PtyFd;

/// A running program and the master side of its pty.
pub struct PtyProcess {
    pub pid: u32,
    /// Kept for resizing; dropping it (with `io`) hangs the program up.
    pub master: Box<dyn MasterPty + Send>,
    /// The same master, for reading and writing on the runtime.
    pub io: PtyFd,
}

pub fn pty_size(size: Size) -> PtySize {
    PtySize {
        rows: size.rows.max(1),
        cols: size.cols.max(1),
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// Spawns `req.command` with the pty as its controlling terminal.
pub fn spawn(req: &SpawnRequest, session_name: &str) -> Result<PtyProcess> {
    let cwd = Path::new(&req.cwd);
    if !cwd.is_dir() {
        bail!(
            "working directory {} does not exist or is not a directory",
            req.cwd
        );
    }
    let program = req.command.first().context("no command given")?;
    let path_var = req
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str());
    let resolved = resolve_program(program, cwd, path_var)?;

    let pair = native_pty_system()
        .openpty(pty_size(req.size))
        .context("cannot open a pty")?;
    let mut cmd = CommandBuilder::new(&resolved);
    cmd.args(&req.command[1..]);
    cmd.cwd(cwd);
    cmd.env_clear();
    for (key, value) in &req.env {
        cmd.env(key, value);
    }
    // Before portable-pty asks the password database for them (login_env.rs).
    for (key, value) in login_env::missing(&req.env)? {
        cmd.env(key, value);
    }
    cmd.env("TERM", "xterm-256color");
    cmd.env("COLORTERM", "truecolor");
    cmd.env("SYMP_SESSION", session_name);
    // Everything that can fail goes before the spawn, so a failure leaves no program.
    let io = PtyFd::from_master(&*pair.master)?;
    let child = pair
        .slave
        .spawn_command(cmd)
        .with_context(|| format!("cannot start {program}"))?;
    // The slave must close here or the reader never sees EOF when the program ends.
    drop(pair.slave);
    let pid = child.process_id().context("spawned program has no pid")?;
    // We reap it ourselves, through a pidfd (portable-pty loses the signal number);
    // dropping the handle neither kills nor waits.
    drop(child);
    Ok(PtyProcess {
        pid,
        master: pair.master,
        io,
    })
}

/// Finds the program the way a shell would, so "not found" and "not executable"
/// are reported by name instead of as an exec failure.
fn resolve_program(program: &str, cwd: &Path, path_var: Option<&str>) -> Result<PathBuf> {
    if program.contains('/') {
        let path = cwd.join(program);
        return match std::fs::metadata(&path) {
            Err(_) => bail!("command not found: {program}"),
            Ok(meta) if meta.is_dir() => bail!("{program} is a directory"),
            Ok(meta) if meta.permissions().mode() & 0o111 == 0 => {
                bail!("permission denied: {program} is not executable")
            }
            Ok(_) => Ok(path),
        };
    }
    let dirs = path_var.unwrap_or("/usr/local/bin:/usr/bin:/bin");
    let mut not_executable = None;
    for dir in dirs.split(':').filter(|d| !d.is_empty()) {
        let candidate = cwd.join(dir).join(program);
        if let Ok(meta) = std::fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
            not_executable.get_or_insert(candidate);
        }
    }
    match not_executable {
        Some(path) => bail!("permission denied: {} is not executable", path.display()),
        None => bail!("command not found: {program}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_path_and_names_the_missing_ones() {
        let cwd = Path::new("/");
        assert!(resolve_program("sh", cwd, Some("/usr/bin:/bin")).is_ok());
        let err = resolve_program("no-such-program-xyz", cwd, Some("/usr/bin")).unwrap_err();
        assert_eq!(err.to_string(), "command not found: no-such-program-xyz");
        let plain_file = std::env::temp_dir().join(format!("symp-not-exec-{}", std::process::id()));
        std::fs::write(&plain_file, "data").expect("temp file");
        std::fs::set_permissions(&plain_file, std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let err = resolve_program(plain_file.to_str().expect("utf8"), cwd, None).unwrap_err();
        let _ = std::fs::remove_file(&plain_file);
        assert!(err.to_string().contains("not executable"), "{err}");
    }
}
