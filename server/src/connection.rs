//! One client connection: uid check, version handshake, then one request.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use futures_util::{SinkExt, StreamExt};
use symp_protocol::{ClientMsg, FrameCodec, ServerMsg, PROTOCOL_VERSION};
use tokio::net::UnixStream;
use tokio_util::codec::Framed;
use tracing::Instrument;

use crate::attach;
use crate::daemon::Server;
use crate::socket::Socket;

/// A client connection, framed.
pub(crate) type Conn = Framed<Socket, FrameCodec<ClientMsg, ServerMsg>>;

/// How long a peer may take to say hello and make its request.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(stream: UnixStream, server: Arc<Server>, conn_id: u64) {
    let span = tracing::info_span!("conn", id = conn_id);
    async move {
        // Asked here: the socket below no longer has tokio's `peer_cred`.
        let peer = stream.peer_cred().map(|peer| (peer.uid(), peer.pid()));
        let stream = match Socket::new(stream) {
            Ok(stream) => stream,
            Err(err) => return tracing::warn!("cannot watch a connection: {err}"),
        };
        let mut conn = Framed::new(stream, FrameCodec::default());
        if let Err(err) = handle(&mut conn, peer, &server).await {
            tracing::debug!("request failed: {err:#}");
            // The peer may be gone already; then there is nobody to tell.
            let message = format!("{err:#}").replace('\n', " ");
            let _ = conn.send(ServerMsg::Error { message }).await;
        }
    }
    .instrument(span)
    .await
}

async fn next(conn: &mut Conn) -> Result<ClientMsg> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, conn.next()).await {
        Err(_) => Err(anyhow!("timed out waiting for a request")),
        Ok(None) => Err(anyhow!("connection closed before a request")),
        Ok(Some(msg)) => Ok(msg?),
    }
}

/// `peer`: the connecting process's uid and pid.
async fn handle(
    conn: &mut Conn,
    peer: std::io::Result<(u32, Option<i32>)>,
    server: &Arc<Server>,
) -> Result<()> {
    let (peer_uid, peer_pid) = peer?;
    let own_uid = nix::unistd::getuid().as_raw();
    if peer_uid != own_uid {
        tracing::warn!(peer_uid, "refused a peer of another user");
        return Err(anyhow!(
            "permission denied: this server belongs to uid {own_uid}, not {peer_uid}"
        ));
    }
    match next(conn).await? {
        ClientMsg::Hello { version } if version == PROTOCOL_VERSION => {}
        ClientMsg::Hello { version } => {
            return Err(anyhow!(
                "protocol version mismatch: client speaks {version}, server speaks {PROTOCOL_VERSION}; \
                 run `symp server stop` with the old binary, then retry"
            ))
        }
        other => return Err(anyhow!("expected hello, got {}", variant_name(&other))),
    }
    conn.send(ServerMsg::Welcome {
        version: PROTOCOL_VERSION,
        server_pid: std::process::id(),
    })
    .await?;
    let request = next(conn).await?;
    tracing::debug!(request = variant_name(&request), "request");
    let registry = &server.registry;
    match request {
        ClientMsg::Spawn(req) => {
            let session = registry.spawn(&req)?;
            let name = session.name().to_owned();
            conn.send(ServerMsg::Spawned {
                name,
                pid: session.meta.pid,
            })
            .await?;
        }
        ClientMsg::List { all } => conn.send(ServerMsg::Sessions(registry.list(all))).await?,
        ClientMsg::Attach {
            name,
            read_only,
            size,
        } => {
            let session = registry.live(&name)?;
            let span = tracing::info_span!("attach", session = %name, read_only);
            attach::run(conn, session, read_only, size, None)
                .instrument(span)
                .await?;
        }
        ClientMsg::AttachTerminal {
            name,
            read_only,
            size,
            detach_key,
        } => {
            // Taken whatever happens next, so a refused attach closes them at once.
            let fds = conn.get_mut().take_fds();
            let session = registry.live(&name)?;
            let terminal = attach::Terminal::new(fds, detach_key.as_deref(), peer_pid)?;
            let span = tracing::info_span!("attach", session = %name, read_only, terminal = true);
            attach::run(conn, session, read_only, size, Some(terminal))
                .instrument(span)
                .await?;
        }
        ClientMsg::Kill { name, signal } => {
            let session = registry.live(&name)?;
            if !session.status().is_running() {
                return Err(anyhow!("session {name} has already ended"));
            }
            let signal = match signal {
                Some(n) => Some(
                    nix::sys::signal::Signal::try_from(n)
                        .map_err(|_| anyhow!("unknown signal {n}"))?,
                ),
                None => None,
            };
            session.terminate(signal).await;
            conn.send(ServerMsg::Done).await?;
        }
        ClientMsg::Remove { names, exited } => {
            let names = registry.remove(&names, exited)?;
            conn.send(ServerMsg::Removed { names }).await?;
        }
        ClientMsg::ServerStatus => {
            let sessions = registry.list(true);
            let running = sessions.iter().filter(|s| s.status.is_running()).count() as u32;
            conn.send(ServerMsg::ServerInfo {
                pid: std::process::id(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                sessions: sessions.len() as u32,
                running,
            })
            .await?;
        }
        ClientMsg::ServerStop => {
            server.shutdown().await;
            conn.send(ServerMsg::Done).await?;
            server.exit();
        }
        other => crate::scripting::handle(conn, server, other).await?,
    }
    Ok(())
}

pub fn variant_name(msg: &ClientMsg) -> &'static str {
    match msg {
        ClientMsg::Hello { .. } => "hello",
        ClientMsg::Spawn(_) => "spawn",
        ClientMsg::List { .. } => "list",
        ClientMsg::Attach { .. } => "attach",
        ClientMsg::Input(_) => "input",
        ClientMsg::Resize(_) => "resize",
        ClientMsg::Detach => "detach",
        ClientMsg::Kill { .. } => "kill",
        ClientMsg::Remove { .. } => "remove",
        ClientMsg::ServerStatus => "server-status",
        ClientMsg::ServerStop => "server-stop",
        ClientMsg::TerminalReply(_) => "terminal-reply",
        ClientMsg::Send { .. } => "send",
        ClientMsg::Capture { .. } => "capture",
        ClientMsg::Wait { .. } => "wait",
        ClientMsg::Events { .. } => "events",
        ClientMsg::AttachTerminal { .. } => "attach-terminal",
    }
}
