//! Keystroke echo: one byte typed into the client's terminal, timed until it comes
//! back out of that terminal, with `cat` in raw mode echoing inside the session.

use std::time::Duration;

use anyhow::Result;

use super::{marker, print_marker, sh_command, spawn_watching, Sample, SESSION};
use crate::env::Env;
use crate::stats::percentile;
use crate::tools::Contender;

/// Keys typed in turn: letters that are never the final byte of an escape
/// sequence tmux or symp might send, so only the echo itself can match.
const KEYS: &[u8] = b"vwxyz";
/// A typist's pace: lets any trailing bytes of one echo arrive before the next key.
const BETWEEN_KEYS: Duration = Duration::from_millis(2);

pub fn run(env: &Env, who: Contender) -> Result<Vec<Sample>> {
    let script = format!("stty raw -echo; {}; exec cat", print_marker("READY"));
    let timeout = env.plan.step_timeout;
    let mux = match who {
        Contender::Bare => None,
        _ => Some(env.start(who)?),
    };
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
    Ok(vec![
        Sample::seconds("keystroke echo · p50", at(50.0)),
        Sample::seconds("keystroke echo · p99", at(99.0)),
    ])
}
