//! Attaching where the terminal cannot be handed over (a server from before the
//! handover, the server's own controlling terminal, a terminal this user may not
//! open again after `su`): the server streams the picture in frames and this
//! client draws it, reads the keys and recognises the detach key itself.

use std::time::Duration;

use anyhow::{bail, Result};
use futures_util::{SinkExt, StreamExt};
use symp_protocol::{ClientMsg, ServerMsg, Size};
use symp_server::{is_terminal_reply, DetachFilter, DetachKey, KeyAction, DOUBLE_PRESS_WINDOW_MS};
use tokio::time::Instant;

use super::keyboard::Keyboard;
use super::signals::Signals;
use super::{on_signal, terminal, AttachOptions, Outcome};
use crate::connect::{recv, Conn};

/// Asks for the framed stream and draws its first picture. Errors (an unknown
/// session, ...) come before anything is drawn.
pub async fn start(conn: &mut Conn, options: &AttachOptions, size: Size) -> Result<()> {
    conn.send(ClientMsg::Attach {
        name: options.name.clone(),
        read_only: options.read_only,
        size,
    })
    .await?;
    let ServerMsg::Snapshot(first) = recv(conn).await? else {
        bail!("unexpected reply to attach")
    };
    terminal::write_out(&first)
}

/// Draws the stream and sends the keys until the attach ends.
pub async fn follow(
    conn: &mut Conn,
    options: &AttachOptions,
    signals: &mut Signals,
    keys: &mut Keyboard,
) -> Result<Outcome> {
    let read_only = options.read_only;
    let detach_key = match &options.detach_key {
        Some(text) => DetachKey::parse(text)?,
        None => DetachKey::default(),
    };
    let mut filter = DetachFilter::new(detach_key);
    let mut detach_deadline: Option<Instant> = None;
    let outcome = 'session: loop {
        let double_press_window = async {
            match detach_deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = conn.next() => match msg {
                Some(Ok(ServerMsg::Output(bytes) | ServerMsg::Snapshot(bytes))) => terminal::write_out(&bytes)?,
                Some(Ok(ServerMsg::Exited { status })) => break Outcome::Ended(status),
                Some(Ok(ServerMsg::Error { message })) => break Outcome::Failed(message),
                Some(Ok(_)) => {}
                Some(Err(err)) => break Outcome::Failed(format!("bad frame from the server: {err}")),
                None => break Outcome::Failed("lost the connection to the server".into()),
            },
            Some(bytes) = keys.next() => {
                if is_terminal_reply(&bytes) {
                    if !read_only {
                        conn.send(ClientMsg::TerminalReply(bytes)).await?;
                    }
                    continue;
                }
                for action in filter.feed(&bytes) {
                    match action {
                        KeyAction::Send(bytes) if !read_only => conn.send(ClientMsg::Input(bytes)).await?,
                        KeyAction::Send(_) => {}
                        KeyAction::Armed => {
                            detach_deadline = Some(Instant::now() + Duration::from_millis(DOUBLE_PRESS_WINDOW_MS));
                        }
                        KeyAction::Detach => break 'session Outcome::Detached,
                    }
                }
            },
            () = double_press_window => {
                detach_deadline = None;
                if filter.expire() {
                    break Outcome::Detached;
                }
            }
            event = signals.next() => {
                if let Some(outcome) = on_signal(event, conn).await? {
                    break outcome;
                }
            }
        }
    };
    if matches!(outcome, Outcome::Detached | Outcome::Suspended) {
        // Best effort: the server also notices the connection closing.
        let _ = conn.send(ClientMsg::Detach).await;
    }
    Ok(outcome)
}
