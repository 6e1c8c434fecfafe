//! Skimming must leave exactly the history (and screen) that parsing every row
//! would have: checked on random output against a shadow that never skims.

use symp_protocol::Size;

use crate::shadow::Shadow;
use crate::skim::Skim;

fn size(cols: u16, rows: u16) -> Size {
    Size { cols, rows }
}

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

/// Output that scrolls in every way vt100 knows, with numbered lines so every
/// row differs.
fn random_output(rng: &mut Rng, pieces: usize, line: &mut usize) -> Vec<u8> {
    const PIECES: [&[u8]; 19] = [
        b"\r\n",
        b"\n",
        b"\x1b[31;1m",
        b"\x1b[m",
        b"\x1b[38;5;200;48;2;1;2;3m",
        b"\x1b[2;4r",
        b"\x1b[r",
        b"\x1b[?1049h",
        b"\x1b[?1049l",
        b"\x1bM",
        b"\x1bD\x1bE",
        b"\x1b[3S",
        b"\x1b[2T",
        b"\x1b[L\x1b[2M",
        b"\x1b[2J\x1b[H",
        b"\x1b[9;1H",
        "wide \u{4f60}\u{597d} e\u{301}".as_bytes(),
        "\u{44f} \u{438} \u{e9} \u{e9}".as_bytes(),
        b"a line long enough to wrap on the narrow screens of this test",
    ];
    let mut out = Vec::new();
    for _ in 0..pieces {
        if rng.below(3) == 0 {
            *line += 1;
            out.extend_from_slice(format!("line {line}\r\n").as_bytes());
        } else {
            out.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    out
}

fn history_of(shadow: &mut Shadow) -> (Vec<String>, u64) {
    let history = shadow.history();
    let lines = history.last(usize::MAX).map(str::to_owned).collect();
    (lines, history.pushed())
}

#[test]
fn skimmed_floods_leave_the_history_parsing_every_row_would() {
    let mut rng = Rng(0x5eed_1e55_c0ff_ee11);
    let mut skimmed_any = 0;
    for case in 0..300 {
        let keep = [1, 3, 8, 20, 50][rng.below(5)];
        let start = size(10 + rng.below(30) as u16, 3 + rng.below(8) as u16);
        let mut every_row = Shadow::new(start, keep);
        let mut skimming = Shadow::new(start, keep);
        let mut line = 0;
        for _ in 0..40 {
            let pieces = 1 + rng.below(30);
            let output = random_output(&mut rng, pieces, &mut line);
            // Cut anywhere, sequences and characters too, as the pty does.
            let cut = rng.below(output.len() + 1);
            for part in [&output[..cut], &output[cut..]] {
                every_row.process(part);
                skimming.process(part);
            }
            match rng.below(10) {
                0..=3 => skimmed_any += usize::from(skimming.start_skimming()),
                4 => {
                    skimming.settle_history();
                }
                5 => {
                    // A read in the middle of a flood formats what it needs.
                    assert_eq!(history_of(&mut skimming), history_of(&mut every_row));
                }
                6 => {
                    let to = size(10 + rng.below(30) as u16, 3 + rng.below(8) as u16);
                    every_row.resize(to);
                    skimming.resize(to);
                }
                _ => {}
            }
        }
        assert_eq!(
            history_of(&mut skimming),
            history_of(&mut every_row),
            "case {case}"
        );
        assert_eq!(
            skimming.with_screen(vt100::Screen::state_formatted),
            every_row.with_screen(vt100::Screen::state_formatted),
            "case {case}"
        );
    }
    assert!(
        skimmed_any > 1000,
        "skimming started only {skimmed_any} times"
    );
}

/// Coloured lines of about 150 bytes.
fn coloured_lines(from: usize, count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in from..from + count {
        let line = format!(
            "\x1b[38;5;{}mline {i} \x1b[38;2;1;2;3mof a flood \x1b[48;5;7m{}\x1b[m\r\n",
            i % 256,
            "x".repeat(80)
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

#[test]
fn a_flood_far_ahead_of_the_parser_is_skimmed_until_it_catches_up() {
    let mut every_row = Shadow::new(size(120, 40), 1000);
    let mut paced = Shadow::new(size(120, 40), 1000);
    let flood = coloured_lines(0, 40_000);
    let batches: Vec<&[u8]> = flood.chunks(64 * 1024).collect();
    let mut skimmed_batches = 0;
    for (i, batch) in batches.iter().enumerate() {
        let backlog = flood.len().saturating_sub((i + 1) * 64 * 1024);
        paced.pace_history(backlog as u64);
        skimmed_batches += usize::from(paced.is_skimming());
        paced.process(batch);
        every_row.process(batch);
    }
    assert!(
        skimmed_batches > batches.len() / 2,
        "skimmed {skimmed_batches} of {} batches",
        batches.len()
    );
    // Caught up: less than a batch behind.
    paced.pace_history(0);
    assert!(!paced.is_skimming());
    assert_eq!(history_of(&mut paced), history_of(&mut every_row));
}

#[test]
fn a_short_burst_is_not_skimmed() {
    let mut shadow = Shadow::new(size(120, 40), 1000);
    shadow.process(&coloured_lines(0, 1000));
    // 150 KB of lines, a few KB waiting: parsing them as they come is cheaper
    // than parsing any of them twice.
    shadow.pace_history(4096);
    assert!(!shadow.is_skimming());
}

#[test]
fn a_full_screen_repaint_stops_skimming() {
    let mut shadow = Shadow::new(size(120, 40), 1000);
    shadow.process(&coloured_lines(0, 2000));
    shadow.pace_history(64 << 20);
    assert!(shadow.is_skimming());
    let mut repaint = Vec::new();
    while repaint.len() < 64 * 1024 {
        repaint.extend_from_slice(b"\x1b[H\x1b[2J");
        for row in 1..=40 {
            repaint.extend_from_slice(format!("\x1b[{row};1Hrow {row} redrawn").as_bytes());
        }
    }
    shadow.process(&repaint);
    shadow.pace_history(64 << 20);
    assert!(!shadow.is_skimming(), "no rows leave: nothing to skim");
}

#[test]
fn a_long_flood_keeps_a_few_screens_and_a_window_of_output() {
    let mut shadow = Shadow::new(size(120, 40), 1000);
    shadow.process(&coloured_lines(0, 100));
    assert!(shadow.start_skimming());
    for from in (100..50_000).step_by(1000) {
        shadow.process(&coloured_lines(from, 1000));
        assert!(shadow.is_skimming());
        // 1,000 rows kept, a copy every 250: the output since the oldest copy
        // covers at most 1,000 + 2 x 250 rows of about 150 bytes, plus one
        // process call's worth.
        let kept = shadow.skimmed_bytes();
        assert!(kept < (1500 + 1000) * 160, "{kept} bytes kept");
    }
}

#[test]
fn a_character_cut_between_calls_reads_the_same_when_parsed_again() {
    // vte drops the byte after a two-byte character split between two calls
    // (alacritty/vte#159) unless it is handed over whole.
    let (mut every_row, mut skimming) =
        (Shadow::new(size(10, 3), 100), Shadow::new(size(10, 3), 100));
    assert!(skimming.start_skimming());
    for part in [&b"a\r\n\xc3"[..], b"\xa9\n\xc3\xa9\r\nb\r\nc\r\nd\r\n"] {
        every_row.process(part);
        skimming.process(part);
    }
    assert_eq!(history_of(&mut skimming), history_of(&mut every_row));
    assert_eq!(
        history_of(&mut every_row).0,
        ["a", "\u{e9}", " \u{e9}", "b"]
    );
}

#[test]
fn output_after_the_last_row_that_left_is_not_parsed_again() {
    let three = std::num::NonZeroU16::new(3).expect("nonzero");
    let ten = std::num::NonZeroU16::new(10).expect("nonzero");
    let screen = vt100::Parser::new(three, ten, 0).screen().clone();
    let mut skim = Skim::start(screen, 0, 100);
    skim.push(b"1\r\n2\r\n3\r\n4\r\n");
    skim.parsed(2, true, || unreachable!("a quarter of 100 rows apart"));
    skim.push(b"\x1b[Hrepaint");
    skim.parsed(2, true, || unreachable!("no rows left"));
    let replay = skim.into_replay(2).expect("a replay");
    assert_eq!((replay.skipped, replay.formatted), (0, 2));
    assert_eq!(
        replay.calls().collect::<Vec<_>>(),
        [&b"1\r\n2\r\n3\r\n4\r\n"[..]]
    );
}

#[test]
fn long_coloured_lines_with_a_full_history_are_skimmed() {
    // Like the benchmark's: a dozen colours on each line, over 250 bytes, and a
    // history of 10,000 lines (2.5 MB of them). A 4 MiB cap once ruled them out.
    let mut shadow = Shadow::new(size(120, 40), 10_000);
    let line = (0..12)
        .map(|i| format!("\x1b[38;2;{i};{i};{i}mword{i:03} "))
        .collect::<String>()
        + "\x1b[m\r\n";
    assert!(line.len() > 250, "{} bytes", line.len());
    shadow.process(line.repeat(500).as_bytes());
    shadow.pace_history(64 << 20);
    assert!(shadow.is_skimming());
}
