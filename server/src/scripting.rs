//! Requests scripts and editors make without attaching: send, capture, wait, events.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use futures_util::{SinkExt, StreamExt};
use regex_lite::Regex;
use symp_protocol::{Capture, ClientMsg, HistoryRange, SendPart, ServerMsg, Size, Status, WaitFor};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::connection::{variant_name, Conn};
use crate::daemon::Server;
use crate::events::now_ms;
use crate::history::{plain_text, History};
use crate::keys::{encode_key, encode_paste};
use crate::registry::Entry;
use crate::session::{ended, Session};
use crate::shadow::ShadowState;

/// How often `wait --match` looks at the screen while output flows.
const MATCH_INTERVAL: Duration = Duration::from_millis(20);

pub async fn handle(conn: &mut Conn, server: &Server, request: ClientMsg) -> Result<()> {
    let registry = &server.registry;
    match request {
        ClientMsg::Send { name, data } => {
            let session = registry.live(&name)?;
            send(&session, data).await?;
            conn.send(ServerMsg::Done).await?;
        }
        ClientMsg::Capture {
            name,
            ansi,
            history,
        } => {
            let session = registry.live(&name)?;
            if history != HistoryRange::None {
                session.settle_history().await;
            }
            conn.send(ServerMsg::Captured(capture(&session, ansi, history)))
                .await?;
        }
        ClientMsg::Wait {
            name,
            until,
            timeout_ms,
        } => {
            let reply = match registry.get(&name)? {
                Entry::Live(session) => wait(&session, until, timeout_ms).await?,
                Entry::Past(info) if until == WaitFor::Exit => ServerMsg::Waited {
                    met: true,
                    status: info.status,
                },
                _ => bail!(
                    "session {name} ended under an earlier server; there is nothing to wait for"
                ),
            };
            conn.send(reply).await?;
        }
        ClientMsg::Events { name } => {
            if let Some(name) = &name {
                registry.get(name)?;
            }
            stream_events(conn, server, name).await?;
        }
        other => bail!("unexpected request: {}", variant_name(&other)),
    }
    Ok(())
}

async fn send(session: &Session, parts: Vec<SendPart>) -> Result<()> {
    if !session.status().is_running() {
        bail!(
            "session {} has ended; nothing can be sent to it",
            session.name()
        );
    }
    // Encode everything first: a bad key name sends nothing at all.
    let (app_cursor, bracketed) = {
        let shadow = session.shadow();
        shadow.with_screen(|screen| (screen.application_cursor(), screen.bracketed_paste()))
    };
    let mut writes: Vec<Result<Vec<u8>, u64>> = Vec::new();
    for part in parts {
        writes.push(match part {
            SendPart::Text(text) => Ok(text.into_bytes()),
            SendPart::Key(name) => Ok(encode_key(&name, app_cursor)?),
            SendPart::Paste(text) => Ok(encode_paste(&text, bracketed)),
            SendPart::Settle { millis } => Err(millis.min(10_000)),
        });
    }
    for write in writes {
        match write {
            Ok(bytes) => session.write_input(bytes).await?,
            Err(millis) => tokio::time::sleep(Duration::from_millis(millis)).await,
        }
    }
    Ok(())
}

fn capture(session: &Session, ansi: bool, range: HistoryRange) -> Capture {
    let mut shadow = session.shadow();
    let size = shadow.size();
    let status = session.status();
    // Only a capture of the scrollback needs a skimmed flood's rows formatted.
    let history = match range {
        HistoryRange::None => Vec::new(),
        HistoryRange::Lines(n) => history_lines(shadow.history(), ansi, n as usize),
        HistoryRange::All => history_lines(shadow.history(), ansi, usize::MAX),
    };
    let state = shadow.state();
    shadow.with_screen(|screen| capture_screen(screen, state, history, size, ansi, status))
}

/// The newest `wanted` history lines, oldest first.
fn history_lines(history: &History, ansi: bool, wanted: usize) -> Vec<String> {
    history
        .last(wanted)
        .map(|line| {
            if ansi {
                format!("{line}\x1b[m")
            } else {
                plain_text(line).trim_end().to_owned()
            }
        })
        .collect()
}

fn capture_screen(
    screen: &vt100::Screen,
    state: &ShadowState,
    history: Vec<String>,
    size: Size,
    ansi: bool,
    status: Status,
) -> Capture {
    let rows: Vec<String> = if ansi {
        screen
            .rows_formatted(0, size.cols)
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned() + "\x1b[m")
            .collect()
    } else {
        screen
            .rows(0, size.cols)
            .map(|r| r.trim_end().to_owned())
            .collect()
    };
    Capture {
        history,
        rows,
        cursor: screen.cursor_position(),
        cursor_visible: !screen.hide_cursor(),
        size,
        title: state.title.clone(),
        alternate_screen: screen.alternate_screen(),
        status,
    }
}

async fn wait(
    session: &Arc<Session>,
    until: WaitFor,
    timeout_ms: Option<u64>,
) -> Result<ServerMsg> {
    let deadline = timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
    // Checked before waiting, so a typo fails at once rather than at the timeout.
    let regex = match &until {
        WaitFor::Match { regex, .. } => Some(compile_line_regex(regex)?),
        _ => None,
    };
    let condition = async {
        match (&until, &regex) {
            (WaitFor::Exit, _) => {
                ended(&mut session.watch_status()).await;
                true
            }
            (WaitFor::Idle { millis }, _) => {
                wait_idle(session, *millis).await;
                true
            }
            (WaitFor::Match { scrollback, .. }, Some(regex)) => {
                wait_match(session, regex, *scrollback).await
            }
            (WaitFor::Match { .. }, None) => false,
        }
    };
    let met = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, condition)
            .await
            .unwrap_or(false),
        None => condition.await,
    };
    Ok(ServerMsg::Waited {
        met,
        status: session.status(),
    })
}

/// No change to the picture for `millis`.
async fn wait_idle(session: &Session, millis: u64) {
    loop {
        let quiet_for = now_ms().saturating_sub(session.last_change_ms.load(Ordering::Relaxed));
        if quiet_for >= millis {
            return;
        }
        tokio::time::sleep(Duration::from_millis(millis - quiet_for)).await;
    }
}

/// The regex matches the visible screen (and the scrollback if asked), checked each
/// time output arrives. False if the program ends without a match.
async fn wait_match(session: &Arc<Session>, regex: &Regex, scrollback: bool) -> bool {
    // The screen is the shadow's: look again each time the parser moves on.
    let mut parsed = session.log.subscribe_parsed();
    let mut status = session.watch_status();
    let mut history = scrollback.then(HistoryText::default);
    loop {
        let running = session.status().is_running();
        let started = Instant::now();
        if screen_matches(session, regex, &mut history).await {
            return true;
        }
        if !running {
            return false;
        }
        // A long scrollback takes milliseconds to search: spend at most a fifth
        // of the time searching, however fast output arrives.
        let pause = MATCH_INTERVAL.max(started.elapsed() * 4);
        tokio::select! {
            _ = parsed.changed() => tokio::time::sleep(pause).await,
            _ = status.changed() => {}
        }
    }
}

/// Whether the screen (after the scrollback, if `history` is given) matches. The
/// text is copied under the shadow's lock and searched on a blocking thread: a
/// regex can take milliseconds on a long scrollback (regex-lite is not linear in
/// the pattern), and the server's one I/O thread carries every session's output.
async fn screen_matches(
    session: &Arc<Session>,
    regex: &Regex,
    history: &mut Option<HistoryText>,
) -> bool {
    if history.is_some() {
        session.settle_history().await;
    }
    let screen = {
        let mut shadow = session.shadow();
        if let Some(history) = history.as_mut() {
            history.catch_up(shadow.history());
        }
        shadow.with_screen(vt100::Screen::contents)
    };
    let regex = regex.clone();
    let mut taken = history.take();
    let scrollback = taken.is_some();
    let search = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        if let Some(history) = taken.as_mut() {
            history.settle();
            for line in &history.lines {
                text.push_str(line);
                text.push('\n');
            }
        }
        text.push_str(&screen);
        (regex.is_match(&text), taken)
    });
    match search.await {
        Ok((matched, searched)) => {
            *history = searched;
            matched
        }
        Err(_) => {
            // Start the copy over rather than search the screen alone from now on.
            *history = scrollback.then(HistoryText::default);
            false
        }
    }
}

/// The scrollback's plain text as a waiter last copied it: each check copies only
/// the lines added since (under the shadow's lock, on the I/O thread), not up to
/// 10,000 lines every time, and makes them plain off that thread.
#[derive(Default)]
struct HistoryText {
    lines: VecDeque<String>,
    /// Lines copied under the lock, not yet made plain.
    copied: Vec<Box<str>>,
    /// How many lines the history held when last copied.
    held: usize,
    /// `History::pushed` when last copied.
    pushed: u64,
}

impl HistoryText {
    /// Under the shadow's lock: copies the lines added since the last time.
    fn catch_up(&mut self, history: &History) {
        let added = history.pushed() - self.pushed;
        let copy = usize::try_from(added).map_or(history.len(), |n| n.min(history.len()));
        self.copied.extend(history.last(copy).map(Box::from));
        self.held = history.len();
        self.pushed = history.pushed();
    }

    /// Off the I/O thread: makes the copied lines plain, and lets go of the ones
    /// that left the history (the copy keeps the newest lines).
    fn settle(&mut self) {
        self.lines
            .extend(self.copied.drain(..).map(|line| plain_text(&line)));
        let gone = self.lines.len().saturating_sub(self.held);
        self.lines.drain(..gone);
    }
}

/// `^` and `$` match at line starts and ends, as people expect of a screen.
pub fn compile_line_regex(pattern: &str) -> Result<Regex> {
    regex_lite::RegexBuilder::new(pattern)
        .multi_line(true)
        .build()
        .map_err(|e| anyhow!("bad regex: {}", e.to_string().replace('\n', " ")))
}

async fn stream_events(conn: &mut Conn, server: &Server, name: Option<String>) -> Result<()> {
    let mut events = server.registry.bus.subscribe();
    loop {
        tokio::select! {
            event = events.recv() => {
                let line = match event {
                    Ok(event) if name.as_ref().is_none_or(|n| *n == event.session) => serde_json::to_string(&*event)?,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        serde_json::json!({ "event": "lagged", "missed": missed, "time_ms": now_ms() }).to_string()
                    }
                    Err(RecvError::Closed) => return Ok(()),
                };
                conn.send(ServerMsg::Event(line)).await?;
            }
            // The reader hung up (or sent something we do not expect): stop.
            _ = conn.next() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catch_up(copy: &mut HistoryText, history: &History) {
        copy.catch_up(history);
        copy.settle();
    }

    #[test]
    fn the_history_copy_follows_pushes_and_evictions() {
        let mut history = History::new(3);
        let mut copy = HistoryText::default();
        let lines = |copy: &HistoryText| copy.lines.iter().cloned().collect::<Vec<_>>();
        catch_up(&mut copy, &history);
        assert!(copy.lines.is_empty());
        history.push("\x1b[31mone\x1b[m");
        history.push("two");
        catch_up(&mut copy, &history);
        assert_eq!(lines(&copy), ["one", "two"]);
        // One more, and the oldest leaves.
        history.push("three");
        history.push("four");
        catch_up(&mut copy, &history);
        assert_eq!(lines(&copy), ["two", "three", "four"]);
        // More new lines than the history keeps: the copy starts over.
        for n in 5..10 {
            history.push(&n.to_string());
        }
        catch_up(&mut copy, &history);
        assert_eq!(lines(&copy), ["7", "8", "9"]);
        catch_up(&mut copy, &history);
        assert_eq!(lines(&copy), ["7", "8", "9"]);
    }
}
