//! Talking to the server's socket by hand: length-prefixed postcard frames, as
//! protocol/src defines them, for the tests that misbehave on purpose.

use std::io::{ErrorKind, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use rustix::net::{sendmsg, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
use symp_protocol::{ClientMsg, ServerMsg, PROTOCOL_VERSION};

use crate::harness::{Home, TIMEOUT};

pub struct Wire {
    stream: UnixStream,
}

impl Wire {
    pub fn connect(home: &Home) -> Self {
        let stream = UnixStream::connect(home.socket()).expect("connect to the server");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        Self { stream }
    }

    /// Connects and completes the version handshake.
    pub fn hello(home: &Home) -> Self {
        let mut wire = Self::connect(home);
        wire.send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
        });
        match wire.recv() {
            Some(ServerMsg::Welcome { .. }) => wire,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to the socket");
    }

    pub fn send(&mut self, msg: &ClientMsg) {
        let frame = symp_protocol::frame(msg).expect("encode");
        self.send_raw(&frame);
    }

    /// Sends one message with `fds` riding on it (SCM_RIGHTS).
    pub fn send_with_fds(&mut self, msg: &ClientMsg, fds: &[&dyn AsFd]) {
        let frame = symp_protocol::frame(msg).expect("encode");
        let fds: Vec<BorrowedFd<'_>> = fds.iter().map(|fd| fd.as_fd()).collect();
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        assert!(control.push(SendAncillaryMessage::ScmRights(&fds)));
        let sent = sendmsg(
            &self.stream,
            &[IoSlice::new(&frame)],
            &mut control,
            SendFlags::empty(),
        )
        .expect("sendmsg");
        assert_eq!(sent, frame.len());
    }

    /// Stops writing: the server sees the end of what we sent.
    pub fn shut_write(&self) {
        self.stream
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
    }

    /// The next message, or `None` once the server has closed the connection.
    pub fn recv(&mut self) -> Option<ServerMsg> {
        let mut len = [0u8; 4];
        if !self.read_exact_or_closed(&mut len) {
            return None;
        }
        let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
        if !self.read_exact_or_closed(&mut payload) {
            return None;
        }
        Some(symp_protocol::decode(&payload).expect("a well-formed message from the server"))
    }

    /// Reads messages until the server closes the connection; returns them all.
    pub fn until_closed(&mut self) -> Vec<ServerMsg> {
        let deadline = Instant::now() + TIMEOUT;
        let mut messages = Vec::new();
        while let Some(msg) = self.recv() {
            messages.push(msg);
            assert!(Instant::now() < deadline, "the server kept talking");
        }
        messages
    }

    fn read_exact_or_closed(&mut self, buf: &mut [u8]) -> bool {
        match self.stream.read_exact(buf) {
            Ok(()) => true,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
                ) =>
            {
                false
            }
            Err(e) => panic!("reading from the server: {e} (it neither answered nor hung up)"),
        }
    }
}
