//! Fast-forwarding must leave exactly the screen drawing every byte would:
//! checked on random floods against a parser given every byte.

use super::{feed, scan};
use crate::shadow::test_rng::Rng;
use crate::shadow::{nonzero, ShadowState};
use crate::stream_end::StreamEnd;

fn skimming_parser(rows: u16, cols: u16) -> vt100::Parser<ShadowState> {
    let mut state = ShadowState::new(100);
    state.skimming = true;
    vt100::Parser::new_with_callbacks(nonzero(rows), nonzero(cols), 0, state)
}

/// Every field of vt100's screen, by its Debug form (the grid with each row's
/// wrap flag, the count of rows scrolled off, current and saved attributes,
/// the saved cursor, the last character, modes), and the rows counted.
fn seen(parser: &vt100::Parser<ShadowState>) -> (String, u64) {
    (
        format!("{:?}", parser.screen()),
        parser.callbacks().departed,
    )
}

/// Feeds `flood` in one call to a fast-forwarding parser and to one given
/// every byte, checks they agree, and returns the share fast-forwarded.
fn forwarded_share(rows: u16, cols: u16, flood: &[u8]) -> f64 {
    let mut every_byte = skimming_parser(rows, cols);
    let mut forwarded = skimming_parser(rows, cols);
    every_byte.process(flood);
    let skipped = feed(&mut forwarded, &mut StreamEnd::default(), flood);
    assert_eq!(seen(&forwarded), seen(&every_byte));
    skipped as f64 / flood.len() as f64
}

/// A plain line: words (some not ASCII), tabs and SGR sequences (some
/// resetting, some not), of
/// up to three screen widths, or empty; ending in CR LF, a bare LF or CR alone.
fn plain_line(rng: &mut Rng, n: usize, cols: u16) -> Vec<u8> {
    const SGRS: [&[u8]; 15] = [
        b"\x1b[m",
        b"\x1b[0m",
        b"\x1b[0;1;31m",
        b"\x1b[38;5;208m",
        b"\x1b[1;48;2;10;20;30m",
        b"\x1b[4:3m",
        b"\x1b[7m",
        // Resets the scan does not take for one, odd and overlong ones.
        b"\x1b[;31m",
        b"\x1b[00m",
        b"\x1b[0:1m",
        b"\x1b[1;0m",
        b"\x1b[38;5;300;1m",
        b"\x1b[99999999999m",
        b"\x1b[38;2;255;255;255;48;2;100;200;130m",
        b"\x1b[0;1;2;3;4;7;9;22;23;31;41;91;101;1;2;3;4;7;9;22;23;31;41;91;101;1;2;3;4;7;9;22;23;31;41;91;101m",
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
            2 => {
                // Characters one column wide, two to four bytes each.
                let word = [
                    "\u{e9}t\u{e9}",
                    "\u{44f}",
                    "\u{2713}",
                    "\u{2192} ",
                    "\u{1d11e}",
                ];
                out.extend_from_slice(word[rng.below(word.len())].as_bytes());
                printed += 2;
            }
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

/// What breaks a stretch of plain lines: moves, scroll regions, origin mode,
/// saved cursors, the other screen, a reset, wide and cut characters, C0 and
/// C1 controls (also inside a sequence), titles, `CSI b` and `CSI 0 S`, and
/// a sequence cut in two.
const BREAKS: [&[u8]; 28] = [
    b"\x1b[2b",
    b"\x1b[0S",
    b"\x1b7",
    b"\x1b8",
    b"\x1b[?6h",
    b"\x1b[?6l",
    b"\x1b[1;999r",
    b"\x1b[2;999r",
    b"\x1b[?47h",
    b"\x1b[?47l",
    b"\x1bc",
    b"\x08\x0b\x07",
    b"\x1b[1\n0m",
    b"\x1b[38;5\r\n;1m",
    b"\xc3",
    b"\xc2\x85",
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
        let (most_rows, most_cols) = ([3, 12, 30][rng.below(3)], [3, 50, 200][rng.below(3)]);
        let rows = 1 + rng.below(most_rows) as u16;
        let cols = 1 + rng.below(most_cols) as u16;
        let mut every_byte = skimming_parser(rows, cols);
        let mut every_end = StreamEnd::default();
        let mut forwarded = skimming_parser(rows, cols);
        let mut stream_end = StreamEnd::default();
        for call in 0..6 {
            let flood = random_flood(&mut rng, cols);
            // Cut anywhere, sequences too, as batches are.
            let cut = rng.below(flood.len() + 1);
            for part in [&flood[..cut], &flood[cut..]] {
                every_byte.process(part);
                every_end.push(part);
                skipped += feed(&mut forwarded, &mut stream_end, part);
                total += part.len();
                let at = format!("case {case}, call {call}");
                assert_eq!(seen(&forwarded), seen(&every_byte), "{at}");
                assert_eq!(format!("{stream_end:?}"), format!("{every_end:?}"), "{at}");
            }
        }
        // What only later output shows: the character `CSI b` repeats, the
        // saved cursor, the other screen, and the rows scrolled off that
        // growing the screen brings back (several times, after shrinking too).
        let tails: [&[u8]; 4] = [
            b"\x1b[3b",
            b"\x1b8y",
            b"\x1b[?1049hx\x1b[?1049l",
            b"\x1b[m\r\nend",
        ];
        for tail in tails {
            every_byte.process(tail);
            forwarded.process(tail);
            assert_eq!(seen(&forwarded), seen(&every_byte), "case {case}, {tail:?}");
        }
        let sizes = [
            (rows + 7, cols),
            (rows.max(2) - 1, cols + 3),
            (rows + 40, cols),
            (rows, cols),
        ];
        for (r, c) in sizes {
            every_byte.set_size(nonzero(r), nonzero(c));
            forwarded.set_size(nonzero(r), nonzero(c));
            assert_eq!(seen(&forwarded), seen(&every_byte), "case {case}, {r}x{c}");
        }
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

#[test]
fn truecolour_pairs_in_one_sgr_are_plain() {
    // 33 parameter bytes: foreground and background in one sequence.
    let mut flood = b"\r\n".repeat(30);
    for i in 0..5000 {
        let line = format!("\x1b[38;2;255;255;255;48;2;100;200;130mline {i}\x1b[m\r\n");
        flood.extend_from_slice(line.as_bytes());
    }
    let share = forwarded_share(24, 80, &flood);
    assert!(share > 0.9, "{share} fast-forwarded");
}

#[test]
fn a_flood_on_a_fresh_tall_screen_is_fast_forwarded_once_it_reaches_the_bottom() {
    // The first 39 line feeds only move the cursor down: no stretch starts
    // there, yet they must not use up the looks that give up on a call.
    let mut flood = Vec::new();
    for i in 0..1000 {
        flood.extend_from_slice(format!("line {i}\r\n").as_bytes());
    }
    let share = forwarded_share(40, 120, &flood);
    assert!(share > 0.8, "{share} fast-forwarded");
}

#[test]
fn lines_of_characters_one_column_wide_are_plain_and_wide_ones_are_not() {
    let lines = |mark: &str| {
        let mut flood = b"\r\n".repeat(30);
        for i in 0..1000 {
            flood.extend_from_slice(format!("{mark} test {i} pass\u{e9}d\r\n").as_bytes());
        }
        flood
    };
    // U+FFFD is one column wide to unicode-width, but vt100 never draws it.
    let marks = [
        ("\u{2713}", true),
        ("\u{2705}", false),
        ("e\u{301}", false),
        ("\u{fffd}", false),
    ];
    for (mark, plain) in marks {
        let share = forwarded_share(24, 80, &lines(mark));
        assert_eq!(share > 0.8, plain, "{mark}: {share} fast-forwarded");
    }
}

#[test]
fn a_run_of_characters_wraps_as_one_character_at_a_time_would() {
    for cols in 1..12u16 {
        for start in 0..=cols {
            for n in 0..50 {
                let mut found = super::Scan::default();
                let mut col = start;
                found.print(&mut col, n, cols);
                // vt100's way: a character past the last column wraps first.
                let (mut one_col, mut one_scrolls) = (start, 0);
                for _ in 0..n {
                    if one_col >= cols {
                        one_scrolls += 1;
                        one_col = 0;
                    }
                    one_col += 1;
                }
                assert_eq!(
                    (col, found.scrolls),
                    (one_col, one_scrolls),
                    "{cols} {start} {n}"
                );
            }
        }
    }
}
