//! The commands scripts and editors use: send, capture, wait, events.

use anyhow::{bail, Result};
use futures_util::{SinkExt, StreamExt};
use symp_protocol::{Capture, ClientMsg, HistoryRange, SendPart, ServerMsg, WaitFor};
use symp_server::Paths;

use crate::connect::{connect, request};
use crate::json::status_word;
use crate::output::{outln, write};

/// Exit code of `wait` when the timeout passes first (as timeout(1) uses).
pub const TIMED_OUT: u8 = 124;

pub async fn send(
    paths: &Paths,
    name: String,
    text: Option<String>,
    keys: Vec<String>,
    enter: bool,
    paste: bool,
    settle: u64,
) -> Result<u8> {
    if text.is_none() && keys.is_empty() && !enter {
        bail!("nothing to send: give TEXT, --key or --enter");
    }
    if paste && text.is_none() {
        bail!("--paste needs TEXT");
    }
    let mut data = Vec::new();
    if let Some(text) = text {
        data.push(if paste {
            SendPart::Paste(text)
        } else {
            SendPart::Text(text)
        });
    }
    data.extend(keys.into_iter().map(SendPart::Key));
    if enter {
        if !data.is_empty() {
            data.push(SendPart::Settle { millis: settle });
        }
        data.push(SendPart::Key("Enter".into()));
    }
    request(paths, ClientMsg::Send { name, data }).await?;
    Ok(0)
}

pub async fn capture(
    paths: &Paths,
    name: String,
    ansi: bool,
    scrollback: Option<u32>,
    all: bool,
    json: bool,
) -> Result<u8> {
    let history = match (scrollback, all) {
        (_, true) => HistoryRange::All,
        (Some(n), false) => HistoryRange::Lines(n),
        (None, false) => HistoryRange::None,
    };
    let ServerMsg::Captured(capture) = request(
        paths,
        ClientMsg::Capture {
            name: name.clone(),
            ansi,
            history,
        },
    )
    .await?
    else {
        bail!("unexpected reply to capture");
    };
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&capture_json(&name, &capture))?
        )?;
    } else {
        let mut rows: Vec<&str> = capture.rows.iter().map(String::as_str).collect();
        if !ansi {
            // Blank rows under the last line of text are not content.
            while rows.last().is_some_and(|r| r.is_empty()) {
                rows.pop();
            }
        }
        let mut text = String::new();
        for line in capture.history.iter().map(String::as_str).chain(rows) {
            text.push_str(line);
            text.push('\n');
        }
        write(format_args!("{text}"))?;
    }
    Ok(0)
}

fn capture_json(name: &str, c: &Capture) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "rows": c.rows,
        "history": c.history,
        "cursor": { "row": c.cursor.0, "col": c.cursor.1, "visible": c.cursor_visible },
        "size": { "cols": c.size.cols, "rows": c.size.rows },
        "title": c.title,
        "alternate_screen": c.alternate_screen,
        "status": status_word(c.status),
        "exit_code": match c.status { symp_protocol::Status::Exited { code } => Some(code), _ => None },
        "signal": match c.status { symp_protocol::Status::Killed { signal } => Some(signal), _ => None },
    })
}

pub async fn wait(
    paths: &Paths,
    name: String,
    exit: bool,
    idle: Option<f64>,
    pattern: Option<String>,
    scrollback: bool,
    timeout: Option<f64>,
) -> Result<u8> {
    let until = match (exit, idle, pattern) {
        (true, _, _) => WaitFor::Exit,
        (_, Some(secs), _) => WaitFor::Idle {
            millis: secs_to_ms(secs, "--idle")?,
        },
        (_, _, Some(regex)) => {
            // Fail fast on a bad pattern, before any waiting.
            symp_server::scripting::compile_line_regex(&regex)?;
            WaitFor::Match { regex, scrollback }
        }
        _ => bail!("wait needs --exit, --idle or --match"),
    };
    let timeout_ms = timeout.map(|t| secs_to_ms(t, "--timeout")).transpose()?;
    let ServerMsg::Waited { met, status } = request(
        paths,
        ClientMsg::Wait {
            name: name.clone(),
            until: until.clone(),
            timeout_ms,
        },
    )
    .await?
    else {
        bail!("unexpected reply to wait");
    };
    if !met {
        if matches!(until, WaitFor::Match { .. }) && !status.is_running() {
            bail!(
                "session {name} ended ({}) without matching",
                status_word(status)
            );
        }
        eprintln!("symp: timed out waiting for {name}");
        return Ok(TIMED_OUT);
    }
    if until == WaitFor::Exit {
        match status.exit_code() {
            Some(code) => outln!("{code}")?,
            None => outln!("{}", status_word(status))?,
        }
    }
    Ok(0)
}

fn secs_to_ms(secs: f64, flag: &str) -> Result<u64> {
    if !secs.is_finite() || secs < 0.0 {
        bail!("{flag} wants a number of seconds, got {secs}");
    }
    Ok((secs * 1000.0).round() as u64)
}

pub async fn events(paths: &Paths, name: Option<String>, json: bool) -> Result<u8> {
    let mut conn = connect(paths).await?;
    conn.send(ClientMsg::Events { name }).await?;
    while let Some(msg) = conn.next().await {
        let line = match msg? {
            ServerMsg::Event(line) => line,
            ServerMsg::Error { message } => bail!("{message}"),
            other => bail!("unexpected message: {other:?}"),
        };
        if json {
            outln!("{line}")?;
        } else {
            outln!("{}", human_event(&line))?;
        }
    }
    Ok(0)
}

/// `12:00:01 demo exited code=0`: the event, its session, then its other fields.
fn human_event(line: &str) -> String {
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(line) else {
        return line.to_owned();
    };
    let event = fields
        .remove("event")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let session = fields
        .remove("session")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let time = fields
        .remove("time_ms")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let secs = (time / 1000) % 86_400;
    let mut text = format!(
        "{:02}:{:02}:{:02} {session} {event}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    for (key, value) in fields {
        if !value.is_null() {
            text.push_str(&format!(" {key}={value}"));
        }
    }
    text
}
