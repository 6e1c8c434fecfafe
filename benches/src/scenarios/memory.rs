//! Server memory: the resident set of the server process alone, with idle sessions
//! and with one session that has printed a lot (its scrollback full).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::{marker, print_marker, Sample, Unit};
use crate::env::Env;
use crate::process::{anonymous_kib, rss_kib};
use crate::tools::{sh_quote, Contender, Multiplexer};
use crate::wait::wait_until;

#[derive(Clone, Copy, Debug)]
pub enum MemoryCase {
    /// This many sessions running `cat`, which prints nothing: read once settled,
    /// and again after `AT_REST`.
    Idle(usize),
    /// One session after printing the plan's memory workload (coloured lines):
    /// read once settled, and again after `AT_REST`.
    AfterOutput,
    /// The plan's `printed_sessions`, read `AT_REST` after the last one printed:
    /// agents idle after working.
    IdleAfterOutput,
}

impl MemoryCase {
    pub fn label(self, env: &Env) -> String {
        match self {
            MemoryCase::Idle(1) => "server RSS · 1 idle session".into(),
            MemoryCase::Idle(n) => format!("server RSS · {n} idle sessions"),
            MemoryCase::AfterOutput => format!(
                "server RSS · 1 session after {} coloured lines",
                env.plan.memory_output_lines
            ),
            MemoryCase::IdleAfterOutput => {
                let (sessions, lines) = env.plan.printed_sessions;
                format!("server RSS · {sessions} sessions idle after {lines} coloured lines each")
            }
        }
    }
}

/// How long after output (or after spawning idle sessions) the readings "at
/// rest" wait: what an idle server holds, once anything that returns memory had
/// its chance (a session counts as idle after 2 s and symp then packs its screen;
/// it trims after a calm second).
const AT_REST: Duration = Duration::from_secs(4);

/// Readings of a settling process's memory this far apart...
const SETTLE_POLL: Duration = Duration::from_millis(100);
/// ...that differ by less than this fraction count as settled.
const SETTLED_WITHIN: f64 = 0.01;

pub fn run(env: &Env, who: Contender, case: MemoryCase) -> Result<Vec<Sample>> {
    if who == Contender::Bare {
        return Ok(Vec::new());
    }
    let timeout = env.plan.step_timeout;
    let mux = env.start(who)?;
    match case {
        MemoryCase::Idle(count) => {
            for i in 0..count {
                mux.spawn_session(&format!("idle-{i}"), "exec cat")?;
            }
        }
        MemoryCase::AfterOutput => {
            print_in_sessions(
                &*mux,
                &["printed".into()],
                &env.files.memory_output,
                timeout,
            )?;
        }
        MemoryCase::IdleAfterOutput => {
            let names: Vec<String> = (0..env.plan.printed_sessions.0)
                .map(|i| format!("printed-{i}"))
                .collect();
            print_in_sessions(&*mux, &names, &env.files.printed_session_output, timeout)?;
            // Memory at rest is the measurement: a fixed wait, not a condition.
            std::thread::sleep(AT_REST);
        }
    }
    let pid = mux.server_pid()?;
    let mut samples = vec![Sample {
        row: case.label(env),
        unit: Unit::KiB,
        value: settled_rss(pid, timeout)? as f64,
    }];
    let mut last_row = case.label(env);
    if let MemoryCase::AfterOutput | MemoryCase::Idle(_) = case {
        // A fixed wait is the measurement here (memory at rest), not a condition.
        std::thread::sleep(AT_REST);
        last_row = format!("{}, {} s later", case.label(env), AT_REST.as_secs());
        samples.push(Sample {
            row: last_row.clone(),
            unit: Unit::KiB,
            value: settled_rss(pid, timeout)? as f64,
        });
    }
    // RSS counts the code and libraries each tool maps (an idle server's is
    // mostly code size). What the server allocated itself:
    samples.push(Sample {
        row: format!("{last_row}, anonymous"),
        unit: Unit::KiB,
        value: anonymous_kib(pid)? as f64,
    });
    Ok(samples)
}

/// Spawns a session per name that prints `file`, then idles; done once the
/// server's screen of each shows the end: all of it is parsed.
fn print_in_sessions(
    mux: &dyn Multiplexer,
    names: &[String],
    file: &Path,
    timeout: Duration,
) -> Result<()> {
    let script = format!(
        "cat {}; {}; exec cat",
        sh_quote(&file.to_string_lossy()),
        print_marker("PRINTED")
    );
    for name in names {
        mux.spawn_session(name, &script)?;
    }
    for name in names {
        wait_until(
            "the session to print everything",
            timeout,
            Duration::from_millis(20),
            || Ok(mux.screen_text(name)?.contains(&marker("PRINTED"))),
        )?;
    }
    Ok(())
}

/// The resident set once three readings in a row agree within 1 %; the last
/// reading if it never settles within `timeout` (said on stderr).
fn settled_rss(pid: u32, timeout: Duration) -> Result<u64> {
    let mut readings = vec![rss_kib(pid)?];
    let settled = wait_until("server memory to settle", timeout, SETTLE_POLL, || {
        readings.push(rss_kib(pid)?);
        let last3 = &readings[readings.len().saturating_sub(3)..];
        let (lo, hi) = last3
            .iter()
            .fold((u64::MAX, 0), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        Ok(last3.len() == 3 && (hi - lo) as f64 <= hi as f64 * SETTLED_WITHIN)
    });
    if settled.is_err() {
        eprintln!("  note: server memory was still changing after {timeout:.0?}");
    }
    Ok(*readings.last().unwrap_or(&0))
}
