//! Reading the local terminal's keys. Preferably on the runtime itself, through a
//! second, non-blocking open of stdin's terminal (its own file description, so the
//! shell's stdin stays blocking): a key then reaches the server without a thread
//! hop. Otherwise a blocking reader thread feeds a channel.

use std::io::Read;
use std::os::fd::AsFd;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

use super::terminal;

pub enum Keyboard {
    /// Stdin's terminal opened again, non-blocking, read on the runtime.
    Tty {
        tty: pipe::Receiver,
        buf: Box<[u8; 4096]>,
    },
    /// stdin read by a thread.
    Thread(mpsc::Receiver<Vec<u8>>),
}

impl Keyboard {
    pub fn open() -> Self {
        match open_stdin_terminal() {
            Some(tty) => Keyboard::Tty {
                tty,
                buf: Box::new([0; 4096]),
            },
            None => Keyboard::Thread(spawn_stdin_reader()),
        }
    }

    /// The next bytes typed; `None` once the terminal is gone. Cancel-safe.
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        match self {
            Keyboard::Tty { tty, buf } => match tty.read(&mut buf[..]).await {
                Ok(0) | Err(_) => None,
                Ok(n) => Some(buf[..n].to_vec()),
            },
            Keyboard::Thread(rx) => rx.recv().await,
        }
    }
}

/// Stdin's terminal opened again (`terminal::open_again`), non-blocking: the
/// flag lands on our own file description, not the shell's.
fn open_stdin_terminal() -> Option<pipe::Receiver> {
    let tty = terminal::open_again(std::io::stdin().as_fd()).ok()?;
    let flags = OFlag::from_bits_truncate(fcntl(&tty, FcntlArg::F_GETFL).ok()?);
    fcntl(&tty, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).ok()?;
    // The "pipe" receiver works for any pollable non-blocking fd; a tty is one.
    pipe::Receiver::from_owned_fd_unchecked(tty).ok()
}

/// Reads stdin on a thread: a blocking read of a tty cannot be cancelled.
fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}
