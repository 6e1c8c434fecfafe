//! A connected Unix socket on the runtime that is watched for writability only
//! while a write waits for room. tokio's `UnixStream` watches both ways all the
//! time, and a socket becomes writable again each time the peer reads: for a
//! keystroke, the client was woken while the server read its key, and the server
//! while the client read the echo, both in the middle of the echo's way.
//!
//! It also carries fds (SCM_RIGHTS): an attaching client hands over its terminal.

use std::io::{self, IoSlice, IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use crate::pty_fd::watch;
use crate::read_buffer;

/// The most one read takes.
const MAX_READ: usize = 64 * 1024;
/// The most fds kept from the peer: an attaching client's terminal, opened twice
/// (keys, output). The kernel closes any more than one read has room for.
pub const MAX_FDS: usize = 2;

pub struct Socket {
    /// Watched for reading only.
    fd: AsyncFd<UnixStream>,
    /// A duplicate of the fd, watched for writing, while a write waits for room.
    /// (epoll tells the two fds apart though they are the same socket.)
    room: Option<AsyncFd<UnixStream>>,
    /// Fds that came with the bytes read so far, oldest first, at most `MAX_FDS`.
    received: Vec<OwnedFd>,
}

impl Socket {
    /// Takes over a connected stream from tokio. Must be called inside the runtime.
    pub fn new(stream: tokio::net::UnixStream) -> io::Result<Self> {
        // `into_std` unregisters it and leaves it non-blocking.
        Ok(Self {
            fd: watch(stream.into_std()?, Interest::READABLE)?,
            room: None,
            received: Vec::new(),
        })
    }

    /// The fds received so far; the frame that carried them has been read.
    pub fn take_fds(&mut self) -> Vec<OwnedFd> {
        std::mem::take(&mut self.received)
    }

    /// Sends one whole frame with `fds` riding on it. Only for a small frame on a
    /// connection with nothing else in flight, whose socket has room for it (a
    /// short or refused send is an error, not a wait).
    pub fn send_with_fds(&self, frame: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(fds)) {
            return Err(io::Error::other("too many fds for one frame"));
        }
        let sent = sendmsg(
            self.fd.get_ref(),
            &[IoSlice::new(frame)],
            &mut control,
            SendFlags::NOSIGNAL,
        )?;
        if sent < frame.len() {
            return Err(io::Error::other("the socket took only part of a frame"));
        }
        Ok(())
    }
}

/// One read that also takes any fds sent with the bytes (a plain `read` would
/// have the kernel close them). Keeps at most `MAX_FDS`; the rest are closed.
fn receive(socket: &UnixStream, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let msg = recvmsg(
        socket,
        &mut [IoSliceMut::new(buf)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            for fd in received {
                if fds.len() < MAX_FDS {
                    fds.push(fd);
                }
            }
        }
    }
    Ok(msg.bytes)
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let mut ready = ready!(this.fd.poll_read_ready(cx))?;
            let wanted = buf.remaining().min(MAX_READ);
            // Read into the thread's buffer and copy out what came: zeroing the
            // frame buffer's free room first would cost a memset of all of it.
            let received = &mut this.received;
            let read = read_buffer::with(wanted, |scratch| {
                let read = ready.try_io(|fd| receive(fd.get_ref(), scratch, received));
                if let Ok(Ok(n)) = read {
                    buf.put_slice(&scratch[..n]);
                }
                read
            });
            match read {
                Ok(Ok(n)) => {
                    // A short read emptied the socket (as tokio's own streams
                    // assume): wait for the next event instead of reading nothing.
                    // Data that arrives later raises a new one.
                    if n > 0 && n < wanted {
                        ready.clear_ready();
                    }
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(err)) if err.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(err)) => return Poll::Ready(Err(err)),
                Err(_would_block) => {}
            }
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if let Some(room) = &this.room {
                // Only a hint: the write below says whether there is room.
                let mut ready = ready!(room.poll_write_ready(cx))?;
                ready.clear_ready();
            }
            match this.fd.get_ref().write(data) {
                Ok(n) => {
                    // The peer keeps up again: stop watching (a write that
                    // succeeds at once never registers anything).
                    this.room = None;
                    return Poll::Ready(Ok(n));
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    if this.room.is_none() {
                        // A registration reports the current state at once, so room
                        // made before it is not missed.
                        let dup = this.fd.get_ref().try_clone()?;
                        this.room = Some(watch(dup, Interest::WRITABLE)?);
                    }
                }
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.fd.get_ref().shutdown(Shutdown::Write))
    }
}
