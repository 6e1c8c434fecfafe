//! Throughput: seconds until a workload has finished inside the session, and until
//! its last byte is painted in every viewer; detached, with one viewer, with many,
//! and with one viewer plus one that never reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::{marker, print_marker, sh_command, spawn_watching, Sample, SESSION};
use crate::drained_pty::DrainedPty;
use crate::env::Env;
use crate::frozen_pty::FrozenPty;
use crate::go_signal::GoSignal;
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

pub fn run(env: &Env, who: Contender, workload: Workload, viewers: Viewers) -> Result<Vec<Sample>> {
    let scratch = env.scratch()?;
    let go = GoSignal::create(&scratch.path().join("go"))?;
    let done = scratch.path().join("done");
    // The program waits for the starting gun, prints the workload, notes that it
    // has finished, then prints the end marker and idles.
    let script = format!(
        "{ready}; read go < {fifo}; {work}; : > {done}; {end}; exec sleep 3600",
        ready = print_marker("READY"),
        fifo = sh_quote(&go.path().to_string_lossy()),
        work = env.files.command(workload),
        done = sh_quote(&done.to_string_lossy()),
        end = print_marker("END"),
    );
    let timeout = env.plan.step_timeout;
    let timeline = match who {
        Contender::Bare => {
            let (pty, end) = spawn_watching(sh_command(&script), &marker("END"))?;
            let start = go.fire(timeout)?;
            let finished = wait_for_file(&done, timeout)?;
            let painted = pty.output.wait_seen(end, timeout, "the end marker")?;
            Timeline {
                start,
                finished,
                painted: Some(painted),
            }
        }
        _ => {
            let mux = env.start(who)?;
            mux.spawn_session(SESSION, &script)?;
            let mut drained: Vec<DrainedPty> = Vec::new();
            for _ in 0..viewers.drained() {
                let (pty, ready) = spawn_watching(mux.attach_command(SESSION), &marker("READY"))?;
                pty.output
                    .wait_seen(ready, timeout, "the viewer to show the session")?;
                drained.push(pty);
            }
            let _frozen = match viewers {
                Viewers::DrainedAndFrozen => Some(FrozenPty::spawn(mux.attach_command(SESSION))?),
                _ => None,
            };
            let expected = drained.len() + usize::from(_frozen.is_some());
            wait_until(
                "every viewer to be attached",
                timeout,
                Duration::from_millis(10),
                || Ok(mux.client_count(SESSION)? == expected),
            )?;
            let watches: Vec<Arc<OutputWatch>> = drained.iter().map(|p| p.output.clone()).collect();
            let ends: Vec<_> = watches
                .iter()
                .map(|w| w.watch(marker("END").as_bytes()))
                .collect();
            let start = go.fire(timeout)?;
            let finished = wait_for_file(&done, timeout)?;
            let mut painted = None;
            for (watch, end) in watches.iter().zip(ends) {
                let at = watch.wait_seen(end, timeout, "the end marker in a viewer")?;
                painted = painted.max(Some(at));
            }
            // Viewers go before the server (declared later, dropped first).
            Timeline {
                start,
                finished,
                painted,
            }
        }
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
