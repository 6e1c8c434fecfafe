//! Where the socket, registry, log and config live (SYMP_HOME or the XDG directories).

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The files one server instance uses.
#[derive(Debug, Clone)]
pub struct Paths {
    pub runtime_dir: PathBuf,
    pub state_dir: PathBuf,
    pub config_dir: PathBuf,
}

impl Paths {
    /// Resolves from the environment: `SYMP_HOME` holds everything when set.
    pub fn from_env() -> Result<Self> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(home) = env("SYMP_HOME") {
            return Ok(Self {
                runtime_dir: home.clone(),
                state_dir: home.clone(),
                config_dir: home,
            });
        }
        let uid = nix::unistd::getuid();
        let runtime_dir = match env("XDG_RUNTIME_DIR") {
            Some(dir) => dir.join("symp"),
            None => PathBuf::from(format!("/tmp/symp-{uid}")),
        };
        let home = env("HOME").context("neither SYMP_HOME nor HOME is set")?;
        let state_dir = env("XDG_STATE_HOME")
            .unwrap_or_else(|| home.join(".local/state"))
            .join("symp");
        let config_dir = env("XDG_CONFIG_HOME")
            .unwrap_or_else(|| home.join(".config"))
            .join("symp");
        Ok(Self {
            runtime_dir,
            state_dir,
            config_dir,
        })
    }

    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join("symp.sock")
    }

    /// Held with an exclusive lock by the one live server.
    pub fn lock_file(&self) -> PathBuf {
        self.runtime_dir.join("server.lock")
    }

    pub fn registry(&self) -> PathBuf {
        self.state_dir.join("registry.json")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// Session transcripts (see `transcript`).
    pub fn transcripts_dir(&self) -> PathBuf {
        self.state_dir.join("transcripts")
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("server.log")
    }

    /// Creates the runtime and state directories `0700` (and tightens them if they exist).
    pub fn create_dirs(&self) -> Result<()> {
        for dir in [&self.runtime_dir, &self.state_dir] {
            create_private_dir(dir)?;
        }
        Ok(())
    }
}

/// Creates `dir` `0700` (and tightens it if it exists).
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))
}
