//! Where a session's output has stopped so far: between characters and escape
//! sequences, or inside one. vt100 keeps its parser's state private; a screen
//! may be packed away (and later rebuilt with a fresh parser) only at such a
//! boundary, or the rest of a sequence would be read as text.

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;
/// CAN and SUB abort any sequence (ECMA-48), as vte does.
const CAN: u8 = 0x18;
const SUB: u8 = 0x1a;

/// What the output is in the middle of, going by the bytes since its last ESC.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Inside {
    #[default]
    Nothing,
    /// An ESC and maybe intermediates, no final byte yet.
    Escape,
    /// `ESC [`, until a final byte.
    Csi,
    /// `ESC ]`, until BEL or ST.
    Osc,
    /// DCS, SOS, PM or APC (`ESC P`, `X`, `^`, `_`), until ST.
    String,
    /// Not known (the parser failed mid-batch): until the next ESC, CAN or SUB.
    Unknown,
}

/// Follows the output a batch at a time: a backwards search for the batch's
/// last ESC, then a look at what follows it.
#[derive(Debug, Default)]
pub struct StreamEnd {
    inside: Inside,
    /// The last bytes of the output, for a UTF-8 character cut at the end.
    last: [u8; 3],
    last_len: usize,
}

impl StreamEnd {
    pub fn push(&mut self, bytes: &[u8]) {
        self.remember_last(bytes);
        // Every ESC starts afresh (it also ends an OSC or a string), so only the
        // bytes from the last one on matter.
        let rest = match bytes.iter().rposition(|&b| b == ESC) {
            Some(at) => {
                self.inside = Inside::Escape;
                &bytes[at + 1..]
            }
            None if self.inside == Inside::Nothing => return,
            None => bytes,
        };
        for &b in rest {
            self.inside = next(self.inside, b);
            if self.inside == Inside::Nothing {
                // What follows is text: there is no ESC after this one.
                return;
            }
        }
    }

    /// Forgets where the output stopped: the parser failed partway through a
    /// batch, and its state is whatever it was when it failed.
    pub fn lose_track(&mut self) {
        self.inside = Inside::Unknown;
    }

    /// True when the output so far ends between characters and sequences.
    pub fn at_boundary(&self) -> bool {
        self.inside == Inside::Nothing && !self.ends_inside_utf8()
    }

    fn remember_last(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().rev().take(3).rev() {
            if self.last_len == 3 {
                self.last.copy_within(1.., 0);
                self.last_len = 2;
            }
            self.last[self.last_len] = b;
            self.last_len += 1;
        }
    }

    fn ends_inside_utf8(&self) -> bool {
        let last = &self.last[..self.last_len];
        // The last lead byte among the final three bytes, and how many bytes its
        // character needs; continuation bytes after it count towards that.
        for (back, &b) in last.iter().rev().enumerate() {
            let needs = match b {
                0x80..=0xbf => continue,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => return false,
            };
            return back + 1 < needs;
        }
        false
    }
}

/// The state after byte `b` (never ESC) inside a sequence.
fn next(inside: Inside, b: u8) -> Inside {
    match (inside, b) {
        (_, CAN | SUB) | (Inside::Osc, BEL) => Inside::Nothing,
        // Other C0 controls inside a sequence are acted on and skipped.
        (_, 0..=0x1f) => inside,
        (Inside::Escape, b'[') => Inside::Csi,
        (Inside::Escape, b']') => Inside::Osc,
        (Inside::Escape, b'P' | b'X' | b'^' | b'_') => Inside::String,
        (Inside::Escape, 0x30..=0x7e) | (Inside::Csi, 0x40..=0x7e) => Inside::Nothing,
        _ => inside,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends_at_boundary(chunks: &[&[u8]]) -> bool {
        let mut end = StreamEnd::default();
        for chunk in chunks {
            end.push(chunk);
        }
        end.at_boundary()
    }

    #[test]
    fn text_and_finished_sequences_end_at_a_boundary() {
        assert!(ends_at_boundary(&[b""]));
        assert!(ends_at_boundary(&[b"plain text\r\n"]));
        assert!(ends_at_boundary(&[b"\x1b[1;31mred\x1b[m"]));
        assert!(ends_at_boundary(&[b"\x1b]2;title\x07"]));
        assert!(ends_at_boundary(&[b"\x1bP1$r\x1b\\"]));
        assert!(ends_at_boundary(&[b"\x1b7\x1b(B\x1b8"]));
        assert!(ends_at_boundary(&["caf\u{e9} \u{1f600}".as_bytes()]));
    }

    #[test]
    fn a_sequence_cut_at_the_end_is_inside() {
        for cut in [
            &b"\x1b"[..],
            b"\x1b[",
            b"\x1b[38;5;1",
            b"\x1b[?",
            b"\x1b]2;a title",
            b"\x1bPq#0;2;0;0;0",
            b"\x1b(",
        ] {
            assert!(!ends_at_boundary(&[b"text ", cut]), "{cut:?}");
        }
        let smiley = "\u{1f600}".as_bytes();
        assert!(!ends_at_boundary(&[b"a", &smiley[..3]]));
        assert!(!ends_at_boundary(&[&[0xc3]]));
    }

    #[test]
    fn a_sequence_split_across_batches_is_followed() {
        assert!(!ends_at_boundary(&[b"\x1b]2;ti", b"tle"]));
        assert!(ends_at_boundary(&[b"\x1b]2;ti", b"tle", b"\x07more"]));
        assert!(ends_at_boundary(&[b"x\x1b[3", b"1m"]));
        assert!(!ends_at_boundary(&[b"\x1b[3", b"1;"]));
        let smiley = "\u{1f600}".as_bytes();
        assert!(ends_at_boundary(&[&smiley[..2], &smiley[2..]]));
        assert!(!ends_at_boundary(&[
            &smiley[..1],
            &smiley[1..2],
            &smiley[2..3]
        ]));
    }

    #[test]
    fn lost_track_lasts_until_an_escape_or_a_cancel() {
        let mut end = StreamEnd::default();
        end.push(b"text");
        end.lose_track();
        end.push(b"more text");
        assert!(!end.at_boundary());
        end.push(b"\x1b[m after");
        assert!(end.at_boundary());
        end.lose_track();
        end.push(b"\x18");
        assert!(end.at_boundary());
    }

    #[test]
    fn cancel_and_string_terminator_end_any_sequence() {
        assert!(ends_at_boundary(&[b"\x1bPq", b"\x18after"]));
        let long = vec![b'x'; 100_000];
        assert!(!ends_at_boundary(&[b"\x1b]52;c;", &long]));
        assert!(ends_at_boundary(&[b"\x1b]52;c;", &long, b"\x1a"]));
        assert!(ends_at_boundary(&[b"\x1b]52;c;", &long, b"\x1b\\"]));
    }
}
