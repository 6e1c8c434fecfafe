//! Terminal output as plain lines, for `symp logs`: escape sequences dropped, and
//! what a carriage return, backspace or erase-line rewrote shown as it ended up
//! (a progress bar is its last state, not every step). A move to another row
//! ends the line (the text goes on elsewhere on the screen); where it lands is
//! not followed, so a full-screen program's log is best read `--raw` through a
//! terminal.

use vte::{Params, Perform};

/// Turns a byte stream into finished lines; feed it in pieces of any size.
#[derive(Default)]
pub struct PlainText {
    parser: vte::Parser,
    line: Line,
}

#[derive(Default)]
struct Line {
    chars: Vec<char>,
    col: usize,
    /// Lines finished since the last `take`, each with its `\n`.
    done: String,
}

impl PlainText {
    /// Feeds bytes; returns the lines they finished.
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        self.parser.advance(&mut self.line, bytes);
        std::mem::take(&mut self.line.done)
    }

    /// The unfinished last line, if any (at the end of the stream).
    pub fn finish(&mut self) -> String {
        if self.line.chars.is_empty() {
            return String::new();
        }
        self.line.end();
        std::mem::take(&mut self.line.done)
    }
}

/// Tab stops every 8 columns, as terminals start.
const TAB: usize = 8;
/// A line this long ends anyway: output that never ends a line must not grow
/// one without bound.
const MAX_LINE: usize = 64 * 1024;

impl Line {
    fn put(&mut self, c: char) {
        if self.col >= MAX_LINE {
            self.end();
        }
        if self.col < self.chars.len() {
            self.chars[self.col] = c;
        } else {
            self.chars.resize(self.col, ' ');
            self.chars.push(c);
        }
        self.col += 1;
    }

    fn end(&mut self) {
        let text: String = self.chars.drain(..).collect();
        self.done.push_str(text.trim_end());
        self.done.push('\n');
        self.col = 0;
    }
}

impl Perform for Line {
    fn print(&mut self, c: char) {
        self.put(c);
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\n' | 0x0b | 0x0c => self.end(),
            b'\r' => self.col = 0,
            0x08 => self.col = self.col.saturating_sub(1),
            b'\t' => self.col = (self.col / TAB + 1) * TAB,
            _ => {}
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], _ignore: bool, action: char) {
        if !intermediates.is_empty() {
            return;
        }
        let first = params
            .iter()
            .next()
            .and_then(|p| p.first())
            .copied()
            .unwrap_or(0);
        let count = usize::from(first.max(1));
        match action {
            // Erase in line: to the end, to the start, or all of it.
            'K' => match first {
                0 => self.chars.truncate(self.col),
                1 => {
                    let end = (self.col + 1).min(self.chars.len());
                    self.chars[..end].fill(' ');
                }
                _ => self.chars.clear(),
            },
            // Moves to another row: the line, if any, is done.
            'H' | 'f' | 'A' | 'B' | 'd' | 'E' | 'F' => {
                let same_col = self.col;
                if !self.chars.is_empty() {
                    self.end();
                }
                let col = params.iter().nth(1).and_then(|p| p.first()).copied();
                self.col = match action {
                    'H' | 'f' => usize::from(col.unwrap_or(1).max(1)) - 1,
                    'E' | 'F' => 0,
                    _ => same_col,
                };
            }
            // Column moves within the line.
            'G' | '`' => self.col = count - 1,
            'C' | 'a' => self.col += count,
            'D' => self.col = self.col.saturating_sub(count),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(bytes: &[u8]) -> String {
        let mut text = PlainText::default();
        let mut out = text.feed(bytes);
        out.push_str(&text.finish());
        out
    }

    #[test]
    fn colours_and_titles_go() {
        assert_eq!(
            plain(b"\x1b]0;title\x07\x1b[1;31mred\x1b[m plain\r\nnext\r\n"),
            "red plain\nnext\n"
        );
    }

    #[test]
    fn a_rewritten_line_shows_its_last_state() {
        assert_eq!(plain(b"50%\r75%\r100% done\r\n"), "100% done\n");
        assert_eq!(plain(b"long text\r\x1b[Kshort\n"), "short\n");
        assert_eq!(plain(b"abc\x08\x08X\n"), "aXc\n");
    }

    #[test]
    fn tabs_and_column_moves_pad_with_spaces() {
        assert_eq!(plain(b"a\tb\x1b[3Cc\x1b[1Gz\n"), "z       b   c\n");
    }

    #[test]
    fn a_move_to_another_row_ends_the_line() {
        assert_eq!(
            plain(b"\x1b[1;1Htitle\x1b[3;5Hbody\x1b[Kmore\x1b[2Afoot\r\n"),
            "title\n    bodymore\n            foot\n"
        );
    }

    #[test]
    fn a_line_that_never_ends_is_cut() {
        let text = plain(&vec![b'x'; MAX_LINE * 2 + 5]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[2], "xxxxx");
        // Nor does a cursor sent far to the right (a binary blob, a hostile program).
        let far = b"\x1b[65535C".repeat(200);
        assert_eq!(plain(&[far.as_slice(), b"x"].concat()), "\nx\n");
    }

    #[test]
    fn pieces_split_anywhere_give_the_same_lines() {
        let bytes = b"\x1b[38;2;1;2;3mone\r\ntw\xc3\xa9\r\n\x1b[Kthree";
        let whole = plain(bytes);
        let mut text = PlainText::default();
        let mut pieces = String::new();
        for byte in bytes {
            pieces.push_str(&text.feed(&[*byte]));
        }
        pieces.push_str(&text.finish());
        assert_eq!(pieces, whole);
        assert_eq!(whole, "one\ntwé\nthree\n");
    }
}
