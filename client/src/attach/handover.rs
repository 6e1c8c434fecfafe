//! Attaching by handing the terminal to the server, which draws into it and reads
//! its keys itself (as tmux does): a key and its echo skip this process. The
//! client only forwards resizes and signals and waits for the end.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use symp_protocol::{ClientMsg, ServerMsg, Size};

use super::signals::Signals;
use super::{on_signal, terminal, AttachOptions, Outcome};
use crate::connect::{recv, Conn};

/// How long a client that must stop waits for the server to stop drawing into
/// its terminal before it takes the terminal back anyway.
const STOP_DRAWING_TIMEOUT: Duration = Duration::from_secs(1);

/// The terminal, opened again for the server: for keys, then for output. Our own
/// opens, never stdin and stdout themselves: the server makes them non-blocking,
/// which must not reach the shell's file descriptions. `None` where the terminal
/// cannot be opened again (`Offer::NotMade`).
pub fn open_terminal() -> Option<[OwnedFd; 2]> {
    let keys = terminal::open_again(std::io::stdin().as_fd()).ok()?;
    let output = terminal::open_again(std::io::stdout().as_fd()).ok()?;
    Some([keys, output])
}

/// What the server made of the terminal offered.
pub enum Offer {
    /// It draws into the terminal from now on.
    Taken,
    /// An older server, its own controlling terminal, an unknown session: the
    /// connection is over.
    Refused,
    /// The terminal could not be opened again (another user's, after `su`);
    /// the connection is unused.
    NotMade,
}

/// Offers the terminal to the server.
pub async fn offer(
    conn: &mut Conn,
    options: &AttachOptions,
    size: Size,
    fds: [OwnedFd; 2],
) -> Result<Offer> {
    let request = symp_protocol::frame(&ClientMsg::AttachTerminal {
        name: options.name.clone(),
        read_only: options.read_only,
        size,
        detach_key: options.detach_key.clone(),
    })?;
    let [keys, output] = &fds;
    conn.get_ref()
        .send_with_fds(&request, &[keys.as_fd(), output.as_fd()])
        .context("cannot hand the terminal to the server")?;
    drop(fds);
    match recv(conn).await {
        Ok(ServerMsg::Attached) => Ok(Offer::Taken),
        Ok(other) => bail!("unexpected reply to attach: {other:?}"),
        Err(_) => Ok(Offer::Refused),
    }
}

/// Follows an attach the server draws, until it ends.
pub async fn follow(conn: &mut Conn, signals: &mut Signals) -> Result<Outcome> {
    let outcome = loop {
        tokio::select! {
            msg = conn.next() => match msg {
                Some(Ok(ServerMsg::Detached)) => break Outcome::Detached,
                Some(Ok(ServerMsg::Exited { status })) => break Outcome::Ended(status),
                Some(Ok(ServerMsg::Error { message })) => break Outcome::Failed(message),
                Some(Ok(_)) => {}
                Some(Err(err)) => break Outcome::Failed(format!("bad frame from the server: {err}")),
                None => break Outcome::Failed("lost the connection to the server".into()),
            },
            event = signals.next() => {
                if let Some(outcome) = on_signal(event, conn).await? {
                    break outcome;
                }
            }
        }
    };
    if matches!(outcome, Outcome::Hangup | Outcome::Suspended) {
        stop_drawing(conn).await;
    }
    Ok(outcome)
}

/// Asks the server to stop drawing into our terminal and waits until it has (or
/// the connection ends), so nothing it draws lands after the terminal is restored.
async fn stop_drawing(conn: &mut Conn) {
    let stopped = async {
        conn.send(ClientMsg::Detach).await.ok()?;
        loop {
            match conn.next().await? {
                Ok(ServerMsg::Detached | ServerMsg::Exited { .. } | ServerMsg::Error { .. })
                | Err(_) => return Some(()),
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(STOP_DRAWING_TIMEOUT, stopped).await;
}
