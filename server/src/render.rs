//! Draws the shadow screen for a client whose terminal is not the pty's size:
//! clipped to its width and height, padded with blanks, resending only changed rows.

use std::fmt::Write as _;

use symp_protocol::Size;

use crate::shadow::Shadow;

pub struct ClippedView {
    size: Size,
    /// What each of the client's rows shows now, to send only what changed.
    drawn: Vec<String>,
    cursor: Option<(u16, u16)>,
}

impl ClippedView {
    pub fn new(size: Size) -> Self {
        Self {
            size,
            drawn: Vec::new(),
            cursor: None,
        }
    }

    /// Everything: modes, title, then every row.
    pub fn full(&mut self, shadow: &Shadow) -> Vec<u8> {
        self.drawn.clear();
        self.cursor = None;
        let mut out = String::from("\x1b[?2026h\x1b[0m");
        let width = self.size.cols.min(shadow.size().cols);
        shadow.with_screen(|screen| {
            out.push_str(if screen.alternate_screen() {
                "\x1b[?1049h"
            } else {
                "\x1b[?1049l"
            });
            out.push_str("\x1b[H\x1b[2J");
            out.push_str(&screen.input_mode_formatted());
            shadow.write_extra_modes(&mut out);
            self.write_changes(screen, width, &mut out);
        });
        out.push_str("\x1b[?2026l");
        out.into_bytes()
    }

    /// Only rows and cursor that changed since the last draw; `None` if nothing did.
    pub fn update(&mut self, shadow: &Shadow) -> Option<Vec<u8>> {
        let mut out = String::from("\x1b[?2026h");
        let width = self.size.cols.min(shadow.size().cols);
        if !shadow.with_screen(|screen| self.write_changes(screen, width, &mut out)) {
            return None;
        }
        out.push_str("\x1b[?2026l");
        Some(out.into_bytes())
    }

    /// Rows (`width` columns of them) and cursor that changed since the last draw.
    fn write_changes(&mut self, screen: &vt100::Screen, width: u16, out: &mut String) -> bool {
        let mut rows: Vec<String> = screen
            .rows_formatted(0, width)
            .take(usize::from(self.size.rows))
            .collect();
        rows.resize(usize::from(self.size.rows), String::new());
        let mut changed = false;
        for (i, row) in rows.iter().enumerate() {
            if self.drawn.get(i) != Some(row) {
                let _ = write!(out, "\x1b[{};1H\x1b[0m{row}\x1b[0m\x1b[K", i + 1);
                changed = true;
            }
        }
        self.drawn = rows;
        let (row, col) = screen.cursor_position();
        let visible = !screen.hide_cursor() && row < self.size.rows && col < self.size.cols;
        let cursor = visible.then_some((row, col));
        if changed || cursor != self.cursor {
            match cursor {
                Some((r, c)) => {
                    let _ = write!(out, "\x1b[{};{}H\x1b[?25h", r + 1, c + 1);
                }
                None => out.push_str("\x1b[?25l"),
            }
            self.cursor = cursor;
            changed = true;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(bytes: &[u8], size: Size) -> vt100::Parser {
        let mut p = vt100::Parser::new(
            std::num::NonZeroU16::new(size.rows).expect("rows"),
            std::num::NonZeroU16::new(size.cols).expect("cols"),
            0,
        );
        p.process(bytes);
        p
    }

    #[test]
    fn a_smaller_client_sees_the_top_left_clipped() {
        let mut shadow = Shadow::new(Size { cols: 20, rows: 4 }, 0);
        shadow.process(b"0123456789abcdefghij\r\nsecond line\r\nthird\r\nfourth");
        let small = Size { cols: 8, rows: 2 };
        let mut view = ClippedView::new(small);
        let client = draw(&view.full(&shadow), small);
        assert_eq!(client.screen().contents(), "01234567\nsecond l");
    }

    #[test]
    fn a_larger_client_sees_padding_and_only_changes_are_resent() {
        let mut shadow = Shadow::new(Size { cols: 10, rows: 2 }, 0);
        shadow.process(b"hello\r\nworld");
        let big = Size { cols: 30, rows: 5 };
        let mut view = ClippedView::new(big);
        let mut client = draw(&view.full(&shadow), big);
        assert_eq!(client.screen().contents(), "hello\nworld");
        assert!(view.update(&shadow).is_none());
        shadow.process(b"\x1b[1;1HHELLO");
        let delta = view.update(&shadow).expect("a change");
        assert!(!String::from_utf8_lossy(&delta).contains("world"));
        client.process(&delta);
        assert_eq!(client.screen().contents(), "HELLO\nworld");
        assert_eq!(client.screen().cursor_position(), (0, 5));
    }
}
