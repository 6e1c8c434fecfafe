//! Requests scripts and editors make without attaching: send, capture, wait, events.

use anyhow::{anyhow, Result};
use symp_protocol::{ClientMsg, FrameCodec, ServerMsg};
use tokio::net::UnixStream;
use tokio_util::codec::Framed;

use crate::connection::variant_name;
use crate::daemon::Server;

type Conn = Framed<UnixStream, FrameCodec<ClientMsg, ServerMsg>>;

pub async fn handle(_conn: &mut Conn, _server: &Server, request: ClientMsg) -> Result<()> {
    Err(anyhow!("unexpected request: {}", variant_name(&request)))
}
