//! Finding the symp binary to measure: `symp` next to this executable (so
//! `target/<host triple>/release/symp` for a release run), built by cargo when needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub fn locate(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!("no symp binary at {}", path.display());
        }
        return Ok(path);
    }
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let dir = exe.parent().context("this executable has no directory")?;
    let symp = dir.join("symp");
    let release = dir.file_name().is_some_and(|name| name == "release");
    if !release {
        eprintln!("warning: this is not a release build; debug numbers say nothing about symp");
    }
    // Under `cargo run`, rebuild symp too (a no-op when fresh): cargo only builds the
    // package it runs, and a stale symp would be measured silently.
    let cargo = std::env::var_os("CARGO");
    if cargo.is_some() || !symp.is_file() {
        build(cargo.as_deref().map(Path::new), release)?;
    }
    if !symp.is_file() {
        bail!(
            "no symp binary at {} (run `cargo build --release`)",
            symp.display()
        );
    }
    Ok(symp)
}

fn build(cargo: Option<&Path>, release: bool) -> Result<()> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("no workspace directory")?;
    let mut cmd = Command::new(cargo.unwrap_or(Path::new("cargo")));
    cmd.args(["build", "-p", "symp"]).current_dir(workspace);
    if release {
        cmd.arg("--release");
    }
    eprintln!("building symp: {cmd:?}");
    let status = cmd.status().context("cannot run cargo to build symp")?;
    if !status.success() {
        bail!("building symp failed ({status})");
    }
    Ok(())
}
