//! Reaching the server: connect, start it on first use, and say hello.

use std::io::ErrorKind;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use symp_protocol::{ClientMsg, FrameCodec, ServerMsg, PROTOCOL_VERSION};
use symp_server::socket::Socket;
use symp_server::Paths;
use tokio::net::UnixStream;
use tokio_util::codec::Framed;

pub type Conn = Framed<Socket, FrameCodec<ServerMsg, ClientMsg>>;

/// How long a command waits for a server it started to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the running server, starting one first if there is none.
pub async fn connect(paths: &Paths) -> Result<Conn> {
    match try_connect(paths).await? {
        Some(conn) => Ok(conn),
        None => {
            spawn_server(paths)?;
            wait_for_server(paths).await
        }
    }
}

/// Connects to a running server; `None` when no server listens.
pub async fn try_connect(paths: &Paths) -> Result<Option<Conn>> {
    match UnixStream::connect(paths.socket()).await {
        Ok(stream) => Ok(Some(handshake(stream).await?)),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::NotFound | ErrorKind::ConnectionRefused
            ) =>
        {
            Ok(None)
        }
        Err(err) => {
            Err(err).with_context(|| format!("cannot connect to {}", paths.socket().display()))
        }
    }
}

async fn handshake(stream: UnixStream) -> Result<Conn> {
    let stream = Socket::new(stream).context("cannot watch the connection")?;
    let mut conn = Framed::new(stream, FrameCodec::default());
    send(
        &mut conn,
        ClientMsg::Hello {
            version: PROTOCOL_VERSION,
        },
    )
    .await?;
    match recv(&mut conn).await? {
        ServerMsg::Welcome { .. } => Ok(conn),
        other => bail!("unexpected reply to hello: {other:?}"),
    }
}

/// The next message; a server `Error` becomes an error, a hang-up too.
pub async fn recv(conn: &mut Conn) -> Result<ServerMsg> {
    match conn.next().await {
        Some(Ok(ServerMsg::Error { message })) => Err(anyhow!(message)),
        Some(Ok(msg)) => Ok(msg),
        Some(Err(err)) => Err(err).context("bad reply from the server"),
        None => bail!("the server closed the connection"),
    }
}

/// Sends one message. When the server has hung up, its last word (a refusal sent
/// before closing, such as a peer of another uid) is the error, not the broken pipe.
pub async fn send(conn: &mut Conn, msg: ClientMsg) -> Result<()> {
    let Err(err) = conn.send(msg).await else {
        return Ok(());
    };
    if let Some(Ok(ServerMsg::Error { message })) = conn.next().await {
        bail!(message);
    }
    // Plain text on purpose: an io::Error in the chain would read as `symp ... | head`
    // closing stdout, which main treats as success.
    bail!("lost the connection to the server: {err}")
}

/// Sends one request and returns the first reply.
pub async fn request(paths: &Paths, msg: ClientMsg) -> Result<ServerMsg> {
    let mut conn = connect(paths).await?;
    send(&mut conn, msg).await?;
    recv(&mut conn).await
}

/// Starts `symp server start --foreground --daemon` detached from this terminal.
/// Racing starters are fine: the server's lock lets exactly one of them serve.
pub fn spawn_server(paths: &Paths) -> Result<()> {
    paths.create_dirs()?;
    let exe = std::env::current_exe().context("cannot find the symp binary")?;
    Command::new(exe)
        .args(["server", "start", "--foreground", "--daemon"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start the server")?;
    Ok(())
}

/// Polls the socket until a server answers. Used only right after starting one.
pub async fn wait_for_server(paths: &Paths) -> Result<Conn> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(conn) = try_connect(paths).await? {
            return Ok(conn);
        }
        if Instant::now() > deadline {
            bail!(
                "the server did not start within {}s; see {}",
                START_TIMEOUT.as_secs(),
                paths.log_file().display()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A current-thread runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
