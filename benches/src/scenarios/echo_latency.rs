//! Keystroke echo: one byte typed into the client's terminal, timed until it comes
//! back out of that terminal, with `cat` in raw mode echoing inside the session;
//! alone, or while another session of the same server prints flat out.

use std::time::Duration;

use anyhow::Result;

use super::{marker, print_marker, sh_command, spawn_watching, Sample, SESSION};
use crate::env::Env;
use crate::stats::percentile;
use crate::tools::Contender;
use crate::workloads::Workload;

/// What the server does besides the session typed into.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Neighbour {
    /// Nothing.
    Quiet,
    /// Another session, detached, prints the coloured workload over and over:
    /// one agent dumping a log must not make typing into another lag.
    Flooding,
}

impl Neighbour {
    pub fn label(self) -> &'static str {
        match self {
            Neighbour::Quiet => "keystroke echo",
            Neighbour::Flooding => "keystroke echo, another session flooding",
        }
    }
}

/// Keys typed in turn: letters that are never the final byte of an escape
/// sequence tmux or symp might send, so only the echo itself can match.
const KEYS: &[u8] = b"vwxyz";
/// A typist's pace: lets any trailing bytes of one echo arrive before the next key.
const BETWEEN_KEYS: Duration = Duration::from_millis(2);

pub fn run(env: &Env, who: Contender, neighbour: Neighbour) -> Result<Vec<Sample>> {
    // A bare pty has no server to share.
    if who == Contender::Bare && neighbour == Neighbour::Flooding {
        return Ok(Vec::new());
    }
    let script = format!("stty raw -echo; {}; exec cat", print_marker("READY"));
    let timeout = env.plan.step_timeout;
    let mux = match who {
        Contender::Bare => None,
        _ => Some(env.start(who)?),
    };
    if let (Some(mux), Neighbour::Flooding) = (&mux, neighbour) {
        let flood = format!(
            "while :; do {}; done",
            env.files.command(Workload::Coloured)
        );
        mux.spawn_session("flood", &flood)?;
    }
    let cmd = match &mux {
        None => sh_command(&script),
        Some(mux) => {
            mux.spawn_session(SESSION, &script)?;
            mux.attach_command(SESSION)
        }
    };
    let (mut terminal, ready) = spawn_watching(cmd, &marker("READY"))?;
    terminal
        .output
        .wait_seen(ready, timeout, "the program to be ready")?;
    let mut latencies = Vec::with_capacity(env.plan.keystrokes);
    for i in 0..env.plan.keystrokes {
        let key = KEYS[i % KEYS.len()];
        let echo = terminal.output.watch(&[key]);
        let typed = std::time::Instant::now();
        terminal.type_bytes(&[key])?;
        let seen = terminal
            .output
            .wait_seen(echo, timeout, "a keystroke's echo")?;
        latencies.push((seen - typed).as_secs_f64());
        std::thread::sleep(BETWEEN_KEYS);
    }
    // The client goes before its server.
    drop(terminal);
    drop(mux);
    let at = |p: f64| Duration::from_secs_f64(percentile(&latencies, p).unwrap_or(f64::NAN));
    let label = neighbour.label();
    Ok(vec![
        Sample::seconds(format!("{label} · p50"), at(50.0)),
        Sample::seconds(format!("{label} · p99"), at(99.0)),
    ])
}
