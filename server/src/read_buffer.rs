//! A thread's one read buffer: ptys and sockets are read into it and what came is
//! copied out. Safe code cannot read into uninitialised memory, so reading
//! straight into a fresh buffer means zeroing it first, all of it, per read; this
//! one is zeroed once, as it grows. On the server every pty and every socket is
//! read on the one I/O thread and done with it before its task next awaits, so
//! one buffer serves them all (one per pty reader cost 16 KiB a session).

use std::cell::RefCell;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the first `len` bytes of this thread's buffer, grown to fit.
/// `f` must not read through `with` itself (the buffer is borrowed).
pub fn with<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    BUFFER.with_borrow_mut(|buffer| {
        if buffer.len() < len {
            buffer.resize(len, 0);
        }
        f(&mut buffer[..len])
    })
}
