//! A pty as a non-blocking fd on the async runtime: a session's master, whose
//! output is read and keys written by tasks, not by a pair of threads per session,
//! so a keystroke and its echo cross no thread boundary in the server; and an
//! attached client's terminal, whose keys are read and picture written the same way.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use portable_pty::MasterPty;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::read_buffer;

/// What `watch` may register: types that own their fd, close it only when
/// dropped, and never change it. Sealed, since that is the proof `watch` relies on.
pub trait OwnsFd: AsRawFd + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for std::os::fd::OwnedFd {}
    impl Sealed for std::os::unix::net::UnixStream {}
}

impl OwnsFd for OwnedFd {}
impl OwnsFd for UnixStream {}

/// Registers an fd we own with the runtime's reactor (the pty master, a pidfd, a
/// client's socket), for `interest` only. Must be called inside the runtime.
pub fn watch<T: OwnsFd>(owned: T, interest: Interest) -> io::Result<AsyncFd<T>> {
    #[allow(unsafe_code)]
    // SAFETY: `register_with_interest` needs the fd to stay open, and to be the
    // same fd, for the life of the AsyncFd. `T` owns its fd (an `OwnedFd` or a
    // `UnixStream`; `OwnsFd` is sealed to those) and the AsyncFd takes ownership
    // of it: it is closed only when the AsyncFd drops it, and its fd never changes.
    unsafe { AsyncFd::register_with_interest(owned, interest) }.map_err(|e| e.into_parts().1)
}

/// Reads at or above this size may have left more behind: read again until the
/// pty says it is empty. A shorter read took everything there was (the master
/// hands out whatever its buffer holds), so the reader waits for the next
/// readiness event instead of spending a syscall on an empty read before the
/// viewers can send an echo. Well below what a flooding program's reads return
/// (about 4 KiB each), so a flood is still read back to back without yielding.
pub const SHORT_READ: usize = 1024;

/// One pty read; the kernel hands out at most about 4 KiB at a time anyway.
const READ_SIZE: usize = 16 * 1024;

pub struct PtyFd {
    /// Watched for reading only. Watched for writing too, the I/O thread was woken
    /// each time the program read its input (the master becomes writable again):
    /// for a keystroke, while the program was busy producing its echo.
    fd: AsyncFd<OwnedFd>,
}

impl PtyFd {
    /// Duplicates the master's fd, makes it non-blocking and registers it with the
    /// runtime. Must be called inside the runtime.
    pub fn from_master(master: &dyn MasterPty) -> Result<Self> {
        let raw = master.as_raw_fd().context("the pty master has no fd")?;
        #[allow(unsafe_code)]
        // SAFETY: `raw` is the open master fd owned by `master`, which outlives this
        // borrow (it is borrowed from the caller for the whole call); we use the
        // borrow only to duplicate the fd, and own the duplicate from then on.
        let borrowed = unsafe { BorrowedFd::borrow_raw(raw) };
        let owned = borrowed
            .try_clone_to_owned()
            .context("cannot duplicate the pty fd")?;
        // O_NONBLOCK lives on the open file description, which portable-pty's own
        // master shares; it only uses that for resize ioctls, which do not care.
        Self::from_terminal(owned).context("cannot watch the pty fd")
    }

    /// Takes over a terminal fd, made non-blocking. O_NONBLOCK lives on the open
    /// file description, so the fd must not share it with anything that expects
    /// blocking reads (a shell's stdin). Must be called inside the runtime.
    pub fn from_terminal(owned: OwnedFd) -> io::Result<Self> {
        set_nonblocking(&owned)?;
        Ok(Self {
            fd: watch(owned, Interest::READABLE)?,
        })
    }

    /// Waits for what the program writes next and hands it to `consume`, in the
    /// thread's one read buffer (`read_buffer`); `on_empty` runs each time the pty is found
    /// empty: after a read that took all there was, or before a wait. `Ok(None)` or an error (EIO once every slave fd is
    /// closed) means the end.
    pub async fn read_with<R>(
        &self,
        consume: impl FnOnce(&[u8]) -> R,
        on_empty: impl FnMut(),
    ) -> io::Result<Option<R>> {
        // Never refused: `may_read` always says yes.
        self.read_if(consume, on_empty, || true)
            .await
            .unwrap_or(Ok(None))
    }

    /// `read_with`, asking `may_read` each time the fd turns readable, right
    /// before each read: `None` as soon as it says no, with nothing read and the
    /// readiness kept for the next call. (Asked once before a read that then
    /// waits on its own, it would let through whatever came after.)
    pub async fn read_if<R>(
        &self,
        consume: impl FnOnce(&[u8]) -> R,
        mut on_empty: impl FnMut(),
        may_read: impl Fn() -> bool,
    ) -> Option<io::Result<Option<R>>> {
        let mut consume = Some(consume);
        loop {
            let mut ready = match self.fd.readable().await {
                Ok(ready) => ready,
                Err(err) => return Some(Err(err)),
            };
            if !may_read() {
                return None;
            }
            let outcome = read_buffer::with(READ_SIZE, |buf| {
                let read = ready.try_io(|fd| {
                    nix::unistd::read(fd.get_ref().as_fd(), buf).map_err(io::Error::from)
                });
                match read {
                    Ok(Ok(0)) => Some(Ok(None)),
                    Ok(Ok(n)) => {
                        let data = consume.take().map(|consume| consume(&buf[..n]));
                        if n < SHORT_READ {
                            // It took everything there was. Output arriving after
                            // this read raises a new readiness event (edge-triggered),
                            // so nothing is missed.
                            ready.clear_ready();
                            on_empty();
                        }
                        Some(Ok(data))
                    }
                    Ok(Err(err)) => Some(Err(err)),
                    Err(_would_block) => None,
                }
            });
            match outcome {
                Some(outcome) => return Some(outcome),
                None => on_empty(),
            }
        }
    }

    /// Writes all of `data`. While the program is not reading its input (the pty's
    /// input buffer is full), waits for room without blocking a thread.
    pub async fn write_all(&self, data: &[u8]) -> io::Result<()> {
        write_all(self.fd.get_ref(), data).await
    }
}

/// Makes `fd`'s open file description non-blocking (so: not one a shell shares).
pub fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Writes all of `data` to a non-blocking fd (a pty master, a client's terminal)
/// that nothing else watches for writing. While it has no room, waits without
/// blocking a thread, through a registration of a duplicate that watches
/// writability only for as long as it waits: watched all the time, the fd would
/// wake the I/O thread each time its reader read.
pub async fn write_all(fd: &OwnedFd, mut data: &[u8]) -> io::Result<()> {
    let mut writable: Option<AsyncFd<OwnedFd>> = None;
    while !data.is_empty() {
        // However this loop goes, it lets the I/O thread's other tasks run.
        tokio::task::consume_budget().await;
        if let Some(watched) = &writable {
            // Readiness is only a hint: the write below says whether there is room.
            let mut ready = watched.writable().await?;
            // Every slave fd is closed: nobody will ever read this, and the
            // hang-up stays reported, so waiting again would spin the thread.
            if ready.ready().is_write_closed() {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            ready.clear_ready();
        }
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                if writable.is_none() {
                    // A registration reports the current state at once, so room
                    // made before it is not missed. (epoll tells the dup apart
                    // from a reader's registration of the same file.)
                    writable = Some(watch(fd.try_clone()?, Interest::WRITABLE)?);
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}
