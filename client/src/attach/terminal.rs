//! The local terminal during attach: raw mode on the way in, and on every way out
//! (detach, exit, error, signal, panic) its modes put back as they were.

use std::io::Write;

/// Undoes whatever modes the session's program set in our terminal: main screen,
/// normal keys, no paste brackets, no mouse, no focus events, no kitty keyboard
/// flags, default cursor, visible cursor, no synchronized update left open, and
/// the title it had.
pub const RESET_MODES: &str = concat!(
    "\x1b[?2026l",
    "\x1b[0m",
    "\x1b[?1049l",
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
}

impl Drop for RawModeGuard {
    fn drop(&mut self) {
        self.restore();
    }
}

fn restore_terminal() {
    let rows = crossterm::terminal::size()
        .map(|(_, rows)| rows)
        .unwrap_or(24);
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{RESET_MODES}\x1b[{rows};1H\r\n");
    let _ = out.flush();
    let _ = crossterm::terminal::disable_raw_mode();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}
