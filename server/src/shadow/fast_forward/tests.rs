//! Fast-forwarding must leave exactly the screen drawing every byte would:
//! checked on random floods against a parser given every byte.

use super::{feed, scan};
use crate::shadow::{nonzero, ShadowState};
use crate::stream_end::StreamEnd;

/// A small xorshift generator: the same cases every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn skimming_parser(rows: u16, cols: u16) -> vt100::Parser<ShadowState> {
    let mut state = ShadowState::new(100);
    state.skimming = true;
    vt100::Parser::new_with_callbacks(nonzero(rows), nonzero(cols), 0, state)
}

/// Everything a reader of the screen can tell apart, and the rows it counted.
fn seen(parser: &vt100::Parser<ShadowState>) -> (String, String, Vec<bool>, u64) {
    let screen = parser.screen();
    let rows = screen.size().0.get();
    let wrapped = (0..rows).map(|row| screen.row_wrapped(row)).collect();
    (
        screen.state_formatted(),
        screen.contents_formatted(),
        wrapped,
        parser.callbacks().departed,
    )
}

/// A plain line: words, tabs and SGR sequences (some resetting, some not), of
/// up to three screen widths, or empty; ending in CR LF, a bare LF or CR alone.
fn plain_line(rng: &mut Rng, n: usize, cols: u16) -> Vec<u8> {
    const SGRS: [&[u8]; 7] = [
        b"\x1b[m",
        b"\x1b[0m",
        b"\x1b[0;1;31m",
        b"\x1b[38;5;208m",
        b"\x1b[1;48;2;10;20;30m",
        b"\x1b[4:3m",
        b"\x1b[7m",
    ];
    let mut out = Vec::new();
    let width = rng.below(usize::from(cols) * 3 + 1);
    let mut printed = 0;
    if rng.below(6) > 0 {
        out.extend_from_slice(format!("{n}").as_bytes());
    } else {
        printed = width;
    }
    while printed < width {
        match rng.below(8) {
            0 => out.extend_from_slice(SGRS[rng.below(SGRS.len())]),
            1 => out.push(b'\t'),
            _ => {
                let word = rng.below(12);
                out.extend((0..word).map(|i| b'a' + ((n + i) % 26) as u8));
                out.push(b' ');
                printed += word + 1;
            }
        }
    }
    match rng.below(10) {
        0 => out.push(b'\n'),
        1 => out.push(b'\r'),
        _ => out.extend_from_slice(b"\r\n"),
    }
    out
}

/// What breaks a stretch of plain lines: moves, scroll regions, the other
/// screen, wide characters, titles, `CSI b`, and a sequence cut in two.
const BREAKS: [&[u8]; 13] = [
    b"\x1b[2b",
    b"\x1b[2;5r",
    b"\x1b[r",
    b"\x1b[?1049h",
    b"\x1b[?1049l",
    b"\x1b[H",
    b"\x1b[5;3H",
    b"\x1b[2J",
    "\u{4f60}\u{597d} \u{e9}".as_bytes(),
    b"\x1b]2;title\x07",
    b"x\x1b[5b",
    b"\x1bM",
    b"\x1b[38;5",
];

fn random_flood(rng: &mut Rng, cols: u16) -> Vec<u8> {
    let mut out = Vec::new();
    for n in 0..rng.below(400) {
        if rng.below(80) == 0 {
            out.extend_from_slice(BREAKS[rng.below(BREAKS.len())]);
        }
        out.extend_from_slice(&plain_line(rng, n, cols));
    }
    out
}

#[test]
fn fast_forwarded_floods_leave_the_screen_drawing_every_byte_would() {
    let mut rng = Rng(0xfa57_f0c0_1d5e_ed01);
    let (mut skipped, mut total) = (0, 0);
    for case in 0..200 {
        let rows = 1 + rng.below(12) as u16;
        let cols = 1 + rng.below(50) as u16;
        let mut every_byte = skimming_parser(rows, cols);
        let mut forwarded = skimming_parser(rows, cols);
        let mut stream_end = StreamEnd::default();
        for call in 0..6 {
            let flood = random_flood(&mut rng, cols);
            // Cut anywhere, sequences too, as batches are.
            let cut = rng.below(flood.len() + 1);
            for part in [&flood[..cut], &flood[cut..]] {
                every_byte.process(part);
                skipped += feed(&mut forwarded, &mut stream_end, part);
                total += part.len();
                assert_eq!(
                    seen(&forwarded),
                    seen(&every_byte),
                    "case {case}, call {call}"
                );
            }
        }
        // What a fresh parser never sees: the character `CSI b` repeats, and the
        // rows scrolled off that growing the screen brings back.
        for tail in [&b"\x1b[3b"[..], b"\x1b[m\r\nend"] {
            every_byte.process(tail);
            forwarded.process(tail);
        }
        every_byte.set_size(nonzero(rows + 20), nonzero(cols));
        forwarded.set_size(nonzero(rows + 20), nonzero(cols));
        assert_eq!(seen(&forwarded), seen(&every_byte), "case {case}, grown");
    }
    assert!(
        skipped * 3 > total,
        "only {skipped} of {total} bytes fast-forwarded"
    );
}

#[test]
fn a_stretch_resumes_a_screen_before_its_end_with_the_attributes_and_scrolls() {
    // 3 rows: 40 lines, the last 3 drawn; the SGR before the last reset goes.
    let mut bytes = b"\x1b[31mred\r\n\x1b[0;1mbold\r\n\x1b[4mline\r\n".to_vec();
    for i in 0..37 {
        bytes.extend_from_slice(format!("{i}\r\n").as_bytes());
    }
    let stretch = scan(&bytes, 10, 3);
    assert_eq!(stretch.end, bytes.len());
    let skip = stretch.skip.expect("worth skipping");
    assert_eq!(&bytes[skip.to..], b"34\r\n35\r\n36\r\n");
    let scrolls = format!("{}\x1b[1S", "\x1b[3S".repeat(12));
    assert_eq!(
        String::from_utf8_lossy(&skip.stand_in),
        format!("\x1b[0;1m\x1b[4m{scrolls}"),
        "the SGRs from the last reset on, then 37 rows scrolled"
    );
}

#[test]
fn drawing_resumes_before_the_last_character_a_repeat_would_print() {
    // Numbered lines, then more empty lines than the screen has rows, then
    // `CSI b`: it repeats the last character printed, in the skipped part.
    let mut flood = Vec::new();
    for i in 0..60 {
        flood.extend_from_slice(format!("{}\r\n", char::from(b'a' + i % 26)).as_bytes());
    }
    flood.extend_from_slice(&b"\r\n".repeat(8));
    flood.extend_from_slice(b"\x1b[3b");
    let mut every_byte = skimming_parser(4, 10);
    let mut forwarded = skimming_parser(4, 10);
    let mut stream_end = StreamEnd::default();
    every_byte.process(&flood);
    assert!(feed(&mut forwarded, &mut stream_end, &flood) > 0);
    assert_eq!(seen(&forwarded), seen(&every_byte));
    assert!(every_byte.screen().contents().ends_with("hhh"));
}
