//! The local terminal during attach: opened again for the server, raw mode on
//! the way in, and on every way out (detach, exit, error, a signal once the
//! handlers are in, panic) its modes put back as they were.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use nix::fcntl::OFlag;
use nix::sys::stat::fstat;

/// Undoes whatever modes the session's program set in our terminal: main screen,
/// the whole screen to scroll in (no region, no origin mode), autowrap, the ASCII
/// character set (G0, shifted in), the terminal's own modifyOtherKeys, no paste brackets, no mouse,
/// no focus events, no kitty keyboard flags, default cursor, visible cursor, no
/// synchronized update left open, and the title it had. (The caller then moves
/// the cursor below the picture: the region's reset homes it.)
pub const RESET_MODES: &str = concat!(
    "\x1b[?2026l",
    "\x1b[0m",
    "\x1b[?1049l",
    "\x1b[r\x1b[?6l\x1b[?7h\x1b(B\x0f",
    "\x1b[>4m",
    "\x1b[?1l\x1b>",
    "\x1b[?2004l",
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l",
    "\x1b[?1004l",
    "\x1b[<99u",
    "\x1b[0 q",
    "\x1b[?25h",
    // Give back the title we saved on the way in (xterm's title stack).
    "\x1b[23;0t",
);

/// Gives back the title saved by `SAVE_TITLE` (the end of `RESET_MODES`).
const RESTORE_TITLE: &str = "\x1b[23;0t";

/// Saves the terminal's title, which the session's title replaces while attached.
pub const SAVE_TITLE: &str = "\x1b[22;0t";

/// Raw mode for as long as it lives.
pub struct RawModeGuard {
    active: bool,
}

impl RawModeGuard {
    pub fn enter() -> anyhow::Result<Self> {
        crossterm::terminal::enable_raw_mode()?;
        install_panic_hook();
        Ok(Self { active: true })
    }

    /// Resets modes, leaves raw mode and moves below the picture.
    pub fn restore(&mut self) {
        if std::mem::take(&mut self.active) {
            restore_terminal();
        }
    }

    /// Undoes only the way in, when nothing was drawn: the title saved comes back
    /// and raw mode ends, with the cursor left where it was.
    pub fn undo_entry(&mut self) {
        if std::mem::take(&mut self.active) {
            even_from_the_background(|| {
                let _ = write_out(RESTORE_TITLE.as_bytes());
                let _ = crossterm::terminal::disable_raw_mode();
            });
        }
    }
}

/// Raw mode once more, over modes someone else set meanwhile (the shell, while
/// we were stopped): the modes saved on the way in are put back first, and
/// stay what is given back at the end.
pub fn raw_again() -> Result<()> {
    crossterm::terminal::disable_raw_mode()?;
    crossterm::terminal::enable_raw_mode()?;
    Ok(())
}

/// Opens the terminal behind `fd` again: the same device, a file description of
/// its own. (Not `/dev/tty`: that is an alias whose `st_rdev` names no particular
/// terminal, so it cannot be matched to `fd`.)
pub fn open_again(fd: BorrowedFd<'_>) -> Result<OwnedFd> {
    let wanted = fstat(fd)?.st_rdev;
    let paths = [
        nix::unistd::ttyname(fd).ok(),
        Some(PathBuf::from(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&fd)
        ))),
    ];
    for path in paths.into_iter().flatten() {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            // O_NOCTTY: a client without a controlling terminal must not take this one.
            .custom_flags(OFlag::O_NOCTTY.bits())
            .open(&path);
        // A renamed or reused path would be another device.
        if let Ok(file) = opened {
            if fstat(file.as_fd()).is_ok_and(|st| st.st_rdev == wanted) {
                return Ok(file.into());
            }
        }
    }
    bail!("cannot open this terminal again to hand it to the server (no usable path to it)")
}

/// Writes straight to the terminal's fd: stdout's line buffer would split the
/// bytes into two writes (up to the last newline, then the rest).
pub fn write_out(mut bytes: &[u8]) -> Result<()> {
    let stdout = std::io::stdout();
    let _exclusive = stdout.lock();
    while !bytes.is_empty() {
        match nix::unistd::write(stdout.as_fd(), bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(err) => {
                return Err(std::io::Error::from(err)).context("cannot write to the terminal")
            }
        }
    }
    Ok(())
}

impl Drop for RawModeGuard {
    fn drop(&mut self) {
        self.restore();
    }
}

fn restore_terminal() {
    even_from_the_background(|| {
        let rows = crossterm::terminal::size()
            .map(|(_, rows)| rows)
            .unwrap_or(24);
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{RESET_MODES}\x1b[{rows};1H\r\n");
        let _ = out.flush();
        let _ = crossterm::terminal::disable_raw_mode();
    });
}

/// Runs `give_back` with SIGTTOU blocked on this thread. The terminal may be
/// given back after the shell has taken it back: bash, hung up, hands its
/// terminal to its own group before it exits, while we are still on our way
/// out of a hangup. From the background, setting the modes (and writing, with
/// `tostop`) raises SIGTTOU, and its stop is for good once the shell is gone:
/// a CI run, and 2 of 25 tries of suspend, `fg`, then SIGHUP to the shell,
/// left a client stopped with no parent. Blocked, the kernel lets both
/// through; what they set is the shell's own modes.
fn even_from_the_background(give_back: impl FnOnce()) {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let before = ttou.thread_swap_mask(SigmaskHow::SIG_BLOCK).ok();
    give_back();
    // Unblocked again: entering raw mode from the background must stop us,
    // so that `fg` can continue the attach.
    if let Some(before) = before {
        let _ = before.thread_set_mask();
    }
}

/// Once for the process, however many attaches (a suspend attaches again).
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
    });
}
