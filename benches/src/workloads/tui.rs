//! A TUI-like stream: what an Ink or ratatui app sends while it repaints, i.e.
//! full-screen redraws, Ink-style "erase the last lines and write them again"
//! repaints at the bottom, and small cursor-addressed updates (spinners, status).

use std::io::Write as _;

use super::rng::Rng;

/// Lines an Ink-style repaint rewrites at the bottom of the screen.
const INK_LINES: u16 = 12;
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Frames until at least `target_bytes`, for a `cols` x `rows` screen.
pub fn tui_bytes(target_bytes: usize, cols: u16, rows: u16) -> Vec<u8> {
    let mut rng = Rng::new(0x7E1_0001);
    let mut out = Vec::with_capacity(target_bytes + 64 * 1024);
    let mut frame = 0u64;
    while out.len() < target_bytes {
        match frame % 8 {
            0 => full_redraw(&mut rng, &mut out, cols, rows),
            1 | 3 | 5 | 7 => spinner_update(&mut rng, &mut out, frame, rows),
            _ => ink_repaint(&mut rng, &mut out, cols, rows),
        }
        frame += 1;
    }
    out
}

/// One line of a panel: a border, some styled words, erase to the end.
fn panel_line(rng: &mut Rng, out: &mut Vec<u8>, cols: u16) {
    out.extend_from_slice("\x1b[38;5;244m│\x1b[0m ".as_bytes());
    let mut used = 2u16;
    while used + 12 < cols {
        let _ = write!(out, "\x1b[38;5;{}m", rng.below(256));
        let before = out.len();
        rng.word(out);
        used += (out.len() - before) as u16 + 1;
        out.push(b' ');
    }
    out.extend_from_slice(b"\x1b[0m\x1b[K");
}

/// A synchronized full-screen redraw, row by row with absolute cursor moves.
fn full_redraw(rng: &mut Rng, out: &mut Vec<u8>, cols: u16, rows: u16) {
    out.extend_from_slice(b"\x1b[?2026h\x1b[?25l");
    let _ = write!(out, "\x1b[1;1H\x1b[1;38;2;215;119;87m╭");
    for _ in 2..cols {
        out.extend_from_slice("─".as_bytes());
    }
    out.extend_from_slice("╮\x1b[0m".as_bytes());
    for row in 2..=rows {
        let _ = write!(out, "\x1b[{row};1H");
        panel_line(rng, out, cols);
    }
    out.extend_from_slice(b"\x1b[?25h\x1b[?2026l");
}

/// Ink's log-update: from the bottom line, erase upwards, then write the block again.
fn ink_repaint(rng: &mut Rng, out: &mut Vec<u8>, cols: u16, rows: u16) {
    let _ = write!(out, "\x1b[{rows};1H");
    for _ in 1..INK_LINES {
        out.extend_from_slice(b"\x1b[2K\x1b[1A");
    }
    out.extend_from_slice(b"\x1b[2K\x1b[G");
    for line in 0..INK_LINES {
        panel_line(rng, out, cols);
        if line + 1 < INK_LINES {
            // Ink writes plain newlines; the pty turns them into CR LF.
            out.push(b'\n');
        }
    }
}

/// A spinner and a status word, each placed with an absolute cursor move.
fn spinner_update(rng: &mut Rng, out: &mut Vec<u8>, frame: u64, rows: u16) {
    let spinner = SPINNER[(frame / 2) as usize % SPINNER.len()];
    let row = rows.saturating_sub(INK_LINES + 1).max(1);
    let _ = write!(
        out,
        "\x1b7\x1b[{row};3H\x1b[38;2;215;119;87m{spinner}\x1b[0m \x1b[2mThinking… ({}s)\x1b[0m\x1b[K\x1b8",
        frame / 20
    );
    let _ = write!(out, "\x1b[{};5H\x1b[3m", 2 + rng.below(u64::from(rows) / 2));
    rng.word(out);
    out.extend_from_slice(b"\x1b[0m");
}

#[cfg(test)]
mod tests {
    use symp_protocol::Size;
    use symp_server::shadow::Shadow;

    use super::*;
    use crate::workloads::as_pty_output;

    #[test]
    fn the_stream_repaints_in_place_without_scrolling() {
        let mut shadow = Shadow::new(
            Size {
                cols: 120,
                rows: 40,
            },
            100,
        );
        shadow.process(&as_pty_output(&tui_bytes(256 * 1024, 120, 40)));
        assert!(shadow.history().is_empty(), "nothing scrolled off");
        assert!(shadow.with_screen(|screen| screen.contents()).contains('│'));
    }
}
