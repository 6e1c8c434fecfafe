//! Holds back a UTF-8 character cut at the end of the output handed to vt100,
//! to hand it over whole with what follows: vte 0.15 can drop the byte after a
//! two-byte character split between two calls (alacritty/vte#159), and the
//! output reaches the parser cut anywhere (pty reads, 64 KiB batches, queries).

use std::borrow::Cow;

/// The unfinished character at the end of the output so far (at most 3 bytes).
#[derive(Debug, Default)]
pub struct SplitChar {
    held: Vec<u8>,
}

impl SplitChar {
    /// What vt100 should be given for `bytes`: anything held back before them,
    /// and all of them but an unfinished character at the end, held back now.
    pub fn whole<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out = if self.held.is_empty() {
            Cow::Borrowed(bytes)
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(bytes);
            Cow::Owned(joined)
        };
        let cut = unfinished_tail(&out);
        if cut > 0 {
            let at = out.len() - cut;
            self.held.extend_from_slice(&out[at..]);
            match &mut out {
                Cow::Borrowed(b) => *b = &b[..at],
                Cow::Owned(v) => v.truncate(at),
            }
        }
        out
    }
}

/// How many bytes at the end of `bytes` start a UTF-8 character that needs more.
fn unfinished_tail(bytes: &[u8]) -> usize {
    // The last byte that is not a continuation byte, within a character's reach.
    for back in 1..=bytes.len().min(3) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let needs = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        return if back < needs { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fed(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut split = SplitChar::default();
        chunks.iter().map(|c| split.whole(c).into_owned()).collect()
    }

    #[test]
    fn a_character_cut_in_two_is_handed_over_whole() {
        assert_eq!(
            fed(&[b"a\r\n\xc3", b"\xa9 b"]),
            [&b"a\r\n"[..], b"\xc3\xa9 b"]
        );
        // Three pieces of a four-byte character.
        assert_eq!(
            fed(&[b"x\xf0", b"\x9f", b"\x98\x80y"]),
            [&b"x"[..], b"", b"\xf0\x9f\x98\x80y"]
        );
    }

    #[test]
    fn whole_characters_and_invalid_bytes_pass_at_once() {
        assert_eq!(fed(&["é漢".as_bytes()]), ["é漢".as_bytes()]);
        // A lone continuation byte or an invalid lead byte waits for nothing.
        assert_eq!(fed(&[b"a\xa9", b"\xff"]), [&b"a\xa9"[..], b"\xff"]);
    }

    /// The case vte gets wrong, through a shadow screen: `é é` cut after the
    /// first byte of the first `é` shows what it would have shown whole.
    #[test]
    fn a_split_two_byte_character_keeps_the_next_byte() {
        use crate::shadow::Shadow;
        use symp_protocol::Size;
        let size = Size { cols: 10, rows: 3 };
        let (mut cut, mut whole) = (Shadow::new(size, 10), Shadow::new(size, 10));
        cut.process(b"\xc3");
        cut.process(b"\xa9 \xc3\xa9");
        whole.process("\u{e9} \u{e9}".as_bytes());
        assert_eq!(
            cut.with_screen(vt100::Screen::contents),
            whole.with_screen(vt100::Screen::contents)
        );
    }
}
