//! Throughput: seconds until a workload has finished inside the session, and until
//! its last byte is painted in every viewer; detached, with one viewer, with many,
//! and with one viewer plus one that never reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{marker, print_marker, sh_command, spawn_watching, Sample, SESSION};
use crate::drained_pty::DrainedPty;
use crate::env::Env;
use crate::frozen_pty::FrozenPty;
use crate::go_signal::GoSignal;
use crate::mirror_pty::MirrorPty;
use crate::output_watch::OutputWatch;
use crate::tools::{sh_quote, Contender};
use crate::wait::{wait_for_file, wait_until};
use crate::workloads::Workload;

/// Who watches the session while the workload runs.
#[derive(Clone, Copy, Debug)]
pub enum Viewers {
    Detached,
    /// This many clients, each in a pty drained flat out.
    Drained(usize),
    /// One drained client and one whose pty nobody reads.
    DrainedAndFrozen,
}

impl Viewers {
    pub fn label(self) -> String {
        match self {
            Viewers::Detached => "detached".into(),
            Viewers::Drained(1) => "1 viewer".into(),
            Viewers::Drained(n) => format!("{n} viewers"),
            Viewers::DrainedAndFrozen => "1 viewer + 1 frozen".into(),
        }
    }

    fn drained(self) -> usize {
        match self {
            Viewers::Detached => 0,
            Viewers::Drained(n) => n,
            Viewers::DrainedAndFrozen => 1,
        }
    }
}

/// When the run started, when the workload finished, when its end was painted.
struct Timeline {
    start: Instant,
    finished: Instant,
    painted: Option<Instant>,
}

/// One copy of the workload: its starting gun, its "finished" marker file, and the
/// script that waits for the one, prints the workload, then touches the other.
struct Armed {
    go: GoSignal,
    done: PathBuf,
    script: String,
}

fn arm(env: &Env, workload: Workload, dir: &Path, copy: usize) -> Result<Armed> {
    let go = GoSignal::create(&dir.join(format!("go{copy}")))?;
    let done = dir.join(format!("done{copy}"));
    // The end marker comes after the marker file, so "painted" can never precede
    // "finished" by more than the file's own latency.
    let script = format!(
        "{ready}; read go < {fifo}; {work}; : > {done_file}; {end}; exec sleep 3600",
        ready = print_marker("READY"),
        fifo = sh_quote(&go.path().to_string_lossy()),
        work = env.files.command(workload),
        done_file = sh_quote(&done.to_string_lossy()),
        end = print_marker("END"),
    );
    Ok(Armed { go, done, script })
}

pub fn run(env: &Env, who: Contender, workload: Workload, viewers: Viewers) -> Result<Vec<Sample>> {
    let scratch = env.scratch()?;
    let timeline = match who {
        Contender::Bare => run_bare(env, workload, viewers.drained(), scratch.path())?,
        _ => run_multiplexed(env, who, workload, viewers, scratch.path())?,
    };
    let row = |what: &str| {
        format!(
            "{} · {} · {what}",
            env.files.label(workload),
            viewers.label()
        )
    };
    let mut samples = vec![Sample::seconds(
        row("finished"),
        timeline.finished - timeline.start,
    )];
    if let (Some(painted), false) = (timeline.painted, matches!(viewers, Viewers::Detached)) {
        samples.push(Sample::seconds(row("painted"), painted - timeline.start));
    }
    Ok(samples)
}

/// The workload in one drained pty. For N viewers (N > 1), every chunk is also
/// copied into N drained mirror ptys, and "painted" waits for all of them.
fn run_bare(env: &Env, workload: Workload, viewers: usize, dir: &Path) -> Result<Timeline> {
    let timeout = env.plan.step_timeout;
    let armed = arm(env, workload, dir, 0)?;
    let mirrors = if viewers > 1 {
        (0..viewers)
            .map(|_| {
                let watch = Arc::new(OutputWatch::default());
                MirrorPty::open(watch)
            })
            .collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let inputs = mirrors
        .iter()
        .map(|m| m.input.try_clone().context("cannot share a mirror pty"))
        .collect::<Result<Vec<_>>>()?;
    let watch = Arc::new(OutputWatch::default());
    let pty = DrainedPty::spawn_mirrored(sh_command(&armed.script), watch, inputs)?;
    let mut watches: Vec<Arc<OutputWatch>> = mirrors.iter().map(|m| m.output.clone()).collect();
    if watches.is_empty() {
        watches.push(pty.output.clone());
    }
    let ends: Vec<_> = watches
        .iter()
        .map(|w| w.watch(marker("END").as_bytes()))
        .collect();
    let start = armed.go.fire(timeout)?;
    let finished = wait_for_file(&armed.done, timeout)?;
    let mut painted = None;
    for (watch, end) in watches.iter().zip(ends) {
        painted = painted.max(Some(watch.wait_seen(end, timeout, "the end marker")?));
    }
    Ok(Timeline {
        start,
        finished,
        painted,
    })
}

fn run_multiplexed(
    env: &Env,
    who: Contender,
    workload: Workload,
    viewers: Viewers,
    dir: &Path,
) -> Result<Timeline> {
    let timeout = env.plan.step_timeout;
    let armed = arm(env, workload, dir, 0)?;
    let mux = env.start(who)?;
    mux.spawn_session(SESSION, &armed.script)?;
    if env.plan.neighbour {
        mux.spawn_session("neighbour", "exec cat")?;
    }
    let mut drained: Vec<DrainedPty> = Vec::new();
    for _ in 0..viewers.drained() {
        let (pty, ready) = spawn_watching(mux.attach_command(SESSION), &marker("READY"))?;
        pty.output
            .wait_seen(ready, timeout, "the viewer to show the session")?;
        drained.push(pty);
    }
    let frozen = match viewers {
        Viewers::DrainedAndFrozen => Some(FrozenPty::spawn(mux.attach_command(SESSION))?),
        _ => None,
    };
    let expected = drained.len() + usize::from(frozen.is_some());
    wait_until(
        "every viewer to be attached",
        timeout,
        Duration::from_millis(10),
        || Ok(mux.client_count(SESSION)? == expected),
    )?;
    let ends: Vec<_> = drained
        .iter()
        .map(|pty| pty.output.watch(marker("END").as_bytes()))
        .collect();
    let start = armed.go.fire(timeout)?;
    let finished = wait_for_file(&armed.done, timeout)?;
    let mut painted = None;
    for (pty, end) in drained.iter().zip(ends) {
        let at = pty
            .output
            .wait_seen(end, timeout, "the end marker in a viewer")?;
        painted = painted.max(Some(at));
    }
    // Clients go before their server.
    drop(frozen);
    drop(drained);
    drop(mux);
    Ok(Timeline {
        start,
        finished,
        painted,
    })
}
