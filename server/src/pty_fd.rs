//! The pty master as a non-blocking fd on the async runtime: output is read and
//! keys are written by tasks, not by a pair of threads per session, so a keystroke
//! and its echo cross no thread boundary in the server.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use anyhow::{Context, Result};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use portable_pty::MasterPty;
use tokio::io::unix::AsyncFd;

/// Registers an fd we own with the runtime's reactor (the pty master; a pidfd).
/// Must be called inside the runtime.
pub fn watch(owned: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    #[allow(unsafe_code)]
    // SAFETY: `register` needs the fd to stay open, and to be the same fd, for
    // the life of the AsyncFd. It is an OwnedFd that the AsyncFd takes ownership
    // of: it is closed only when the AsyncFd drops it, and its fd never changes.
    unsafe { AsyncFd::register(owned) }.map_err(|e| e.into_parts().1)
}

/// One pty read; the kernel hands out at most about 4 KiB at a time anyway.
pub const READ_SIZE: usize = 16 * 1024;

thread_local! {
    /// Where every session's pty is read into: all readers run on the server's one
    /// I/O thread, and each is done with it before it next awaits, so one buffer
    /// serves them all (one each cost 16 KiB a session).
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_SIZE].into_boxed_slice());
}

pub struct PtyFd {
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
        let flags = OFlag::from_bits_truncate(fcntl(&owned, FcntlArg::F_GETFL)?);
        fcntl(&owned, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        let fd = watch(owned).context("cannot watch the pty fd")?;
        Ok(Self { fd })
    }

    /// Waits for what the program writes next and hands it to `consume`, in the
    /// I/O thread's one read buffer; `on_empty` runs each time the pty is found
    /// empty, before the wait. `Ok(None)` or an error (EIO once every slave fd is
    /// closed) means the end.
    pub async fn read_with<R>(
        &self,
        consume: impl FnOnce(&[u8]) -> R,
        mut on_empty: impl FnMut(),
    ) -> io::Result<Option<R>> {
        let mut consume = Some(consume);
        loop {
            let mut ready = self.fd.readable().await?;
            let outcome = READ_BUFFER.with_borrow_mut(|buf| {
                let read = ready.try_io(|fd| {
                    nix::unistd::read(fd.get_ref().as_fd(), buf).map_err(io::Error::from)
                });
                match read {
                    Ok(Ok(0)) => Some(Ok(None)),
                    Ok(Ok(n)) => Some(Ok(consume.take().map(|consume| consume(&buf[..n])))),
                    Ok(Err(err)) => Some(Err(err)),
                    Err(_would_block) => None,
                }
            });
            match outcome {
                Some(outcome) => return outcome,
                None => on_empty(),
            }
        }
    }

    /// Writes all of `data`, waiting (without blocking a thread) while the
    /// program is not reading its input.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut ready = self.fd.writable().await?;
            match ready.try_io(|fd| nix::unistd::write(fd.get_ref(), data).map_err(io::Error::from))
            {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(err)) if err.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(err)) => return Err(err),
                Err(_would_block) => {}
            }
        }
        Ok(())
    }
}
