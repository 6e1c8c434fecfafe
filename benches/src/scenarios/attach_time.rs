//! Attach: time from starting a client until the session's whole screen is painted
//! in it (the marker on its last row), for a plain screen and one with history to
//! replay. The bare-pty figure is a new process in a new pty printing the same bytes.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{sh_command, spawn_watching, Sample, SESSION};
use crate::env::Env;
use crate::tools::{sh_quote, Contender};
use crate::wait::{wait_for_file, wait_until};
use crate::workload_files::ATTACH_MARK;

pub fn run(env: &Env, who: Contender, with_history: bool) -> Result<Vec<Sample>> {
    let (file, row) = if with_history {
        (
            &env.files.history_screen,
            format!(
                "attach · {} lines of scrollback",
                env.plan.attach_history_lines
            ),
        )
    } else {
        (&env.files.plain_screen, "attach · plain screen".to_owned())
    };
    let scratch = env.scratch()?;
    let done = scratch.path().join("done");
    let script = format!(
        "cat {}; : > {}; exec sleep 3600",
        sh_quote(&file.to_string_lossy()),
        sh_quote(&done.to_string_lossy())
    );
    let timeout = env.plan.step_timeout;
    let painted_after = match who {
        Contender::Bare => {
            let start = Instant::now();
            let (pty, mark) = spawn_watching(sh_command(&script), ATTACH_MARK)?;
            pty.output.wait_seen(mark, timeout, "the screen marker")? - start
        }
        _ => {
            let mux = env.start(who)?;
            mux.spawn_session(SESSION, &script)?;
            wait_for_file(&done, timeout)?;
            // Attach only once the server's own screen holds everything.
            wait_until(
                "the session's screen to show the marker",
                timeout,
                Duration::from_millis(5),
                || Ok(mux.screen_text(SESSION)?.contains(ATTACH_MARK)),
            )?;
            let start = Instant::now();
            let (client, mark) = spawn_watching(mux.attach_command(SESSION), ATTACH_MARK)?;
            let painted =
                client
                    .output
                    .wait_seen(mark, timeout, "the screen marker in the client")?;
            drop(client);
            painted - start
        }
    };
    Ok(vec![Sample::seconds(row, painted_after)])
}
