//! Skimming must leave exactly the history (and screen) that parsing every row
//! would have: checked on random output against a shadow that never skims.

use symp_protocol::Size;

use super::{Skim, SKIM_MAX_BYTES};
use crate::shadow::test_rng::Rng;
use crate::shadow::Shadow;

fn size(cols: u16, rows: u16) -> Size {
    Size { cols, rows }
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

/// What the parser does before a batch, `backlog` bytes waiting behind it.
fn pace(shadow: &mut Shadow, backlog: impl TryInto<u64>) {
    if shadow.pace_history(backlog.try_into().unwrap_or(u64::MAX)) {
        shadow.settle_history();
    }
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
                0..=3 => skimmed_any += usize::from(skimming.begin_skim()),
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

/// A 6 MB flood of 150-byte coloured lines, paced as the parser takes it
/// when far behind, into a shadow keeping `keep` rows of history; beside it
/// one that formats every row.
fn paced_flood(keep: usize) -> (Shadow, Shadow) {
    let mut every_row = Shadow::new(size(120, 40), keep);
    let mut paced = Shadow::new(size(120, 40), keep);
    let flood = coloured_lines(0, 40_000);
    let batches: Vec<&[u8]> = flood.chunks(64 * 1024).collect();
    let mut skimmed_batches = 0;
    for (i, batch) in batches.iter().enumerate() {
        let backlog = flood.len().saturating_sub((i + 1) * 64 * 1024);
        pace(&mut paced, backlog as u64);
        skimmed_batches += usize::from(paced.is_skimming());
        paced.process(batch);
        every_row.process(batch);
    }
    assert!(
        skimmed_batches > batches.len() / 2,
        "skimmed {skimmed_batches} of {} batches",
        batches.len()
    );
    (paced, every_row)
}

#[test]
fn a_flood_far_ahead_of_the_parser_is_skimmed_through_catching_up() {
    // 5,000 rows of these lines: 750 KB to parse again when settling.
    let (mut paced, mut every_row) = paced_flood(5000);
    // Caught up: a fast-forwarding parser is, in the middle of a flood too.
    // Formatting waits for the flood's end (the parser thread's turn).
    pace(&mut paced, 0);
    assert!(paced.is_skimming());
    assert!(paced.settle_history() > 0, "the output kept is let go");
    assert!(!paced.is_skimming());
    assert_eq!(history_of(&mut paced), history_of(&mut every_row));
}

#[test]
fn a_flood_whose_history_is_cheap_to_parse_again_is_settled_once_caught_up() {
    // 1,000 rows: 150 KB to parse again, less than skimming on would cost.
    let (mut paced, mut every_row) = paced_flood(1000);
    pace(&mut paced, 0);
    assert!(!paced.is_skimming());
    assert_eq!(history_of(&mut paced), history_of(&mut every_row));
}

#[test]
fn a_short_burst_is_not_skimmed() {
    let mut shadow = Shadow::new(size(120, 40), 1000);
    shadow.process(&coloured_lines(0, 1000));
    // 150 KB of lines, a few KB waiting: parsing them as they come is cheaper
    // than parsing any of them twice.
    pace(&mut shadow, 4096);
    assert!(!shadow.is_skimming());
}

#[test]
fn a_full_screen_repaint_stops_skimming() {
    let mut shadow = Shadow::new(size(120, 40), 1000);
    shadow.process(&coloured_lines(0, 2000));
    pace(&mut shadow, 64 << 20);
    assert!(shadow.is_skimming());
    let mut repaint = Vec::new();
    while repaint.len() < 64 * 1024 {
        repaint.extend_from_slice(b"\x1b[H\x1b[2J");
        for row in 1..=40 {
            repaint.extend_from_slice(format!("\x1b[{row};1Hrow {row} redrawn").as_bytes());
        }
    }
    shadow.process(&repaint);
    pace(&mut shadow, 64 << 20);
    assert!(!shadow.is_skimming(), "no rows leave: nothing to skim");
}

#[test]
fn a_long_flood_keeps_a_few_screens_and_a_window_of_output() {
    let mut shadow = Shadow::new(size(120, 40), 1000);
    shadow.process(&coloured_lines(0, 100));
    assert!(shadow.begin_skim());
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
    assert!(skimming.begin_skim());
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
    pace(&mut shadow, 64 << 20);
    assert!(shadow.is_skimming());
}

#[test]
fn parsing_again_repeats_the_calls_as_they_were_cut() {
    // vte reads a character split between two calls differently from one
    // whole (alacritty/vte#159): a replay must not join them.
    let three = std::num::NonZeroU16::new(3).expect("nonzero");
    let screen = vt100::Parser::new(three, three, 0).screen().clone();
    let mut skim = Skim::start(screen, 0, 100);
    for (call, departed) in [(&b"a\r\n\xc3"[..], 1), (b"\xa9 \xc3\xa9\r\n", 2)] {
        skim.push(call);
        skim.parsed(departed, false, || unreachable!("not a boundary"));
    }
    let mut replay = skim.into_replay(2).expect("a replay");
    let mut calls = Vec::new();
    assert!(replay.feed(usize::MAX, |call| calls.push(call.to_vec())));
    assert_eq!(calls, [&b"a\r\n\xc3"[..], b"\xa9 \xc3\xa9\r\n"]);
}

/// `lines` coloured lines into a shadow that formats every row and one that
/// skims them, as the parser hands them over: 64 KiB a call (and a step of
/// formatting takes a call at least).
fn flood_both(lines: usize) -> (Shadow, Shadow) {
    let mut every_row = Shadow::new(size(120, 40), 1000);
    let mut skimming = Shadow::new(size(120, 40), 1000);
    assert!(skimming.begin_skim());
    for call in coloured_lines(0, lines).chunks(64 * 1024) {
        every_row.process(call);
        skimming.process(call);
    }
    (every_row, skimming)
}

#[test]
fn history_formatted_in_steps_is_the_same_and_waits_for_nothing() {
    let (mut every_row, mut stepped) = flood_both(5000);
    let mut steps = 0;
    while stepped.settle_step(16 * 1024).is_none() {
        steps += 1;
        // Between steps the screen is readable as it is.
        assert_eq!(
            stepped.with_screen(vt100::Screen::contents),
            every_row.with_screen(vt100::Screen::contents)
        );
    }
    assert!(steps >= 2, "formatted in {steps} steps");
    assert!(!stepped.is_skimming());
    assert_eq!(history_of(&mut stepped), history_of(&mut every_row));
}

#[test]
fn output_during_formatting_in_steps_waits_for_it() {
    let (mut every_row, mut stepped) = flood_both(3000);
    assert!(stepped.settle_step(16 * 1024).is_none());
    for shadow in [&mut every_row, &mut stepped] {
        shadow.process(&coloured_lines(3000, 100));
    }
    assert_eq!(history_of(&mut stepped), history_of(&mut every_row));
}

#[test]
fn a_flood_that_never_stops_between_sequences_is_settled_at_the_cap() {
    // Every call ends inside a sequence: no copy of the screen can be taken
    // after the first, and the output kept would grow without the cap.
    let mut every_row = Shadow::new(size(120, 40), 1000);
    let mut skimming = Shadow::new(size(120, 40), 1000);
    assert!(skimming.begin_skim());
    let mut call = coloured_lines(0, 400);
    call.extend_from_slice(b"\x1b[3");
    let mut settled = false;
    for _ in 0..(SKIM_MAX_BYTES / call.len() + 2) {
        every_row.process(&call);
        skimming.process(&call);
        settled |= !skimming.is_skimming();
    }
    assert!(settled, "skimming stopped at the cap");
    assert_eq!(history_of(&mut skimming), history_of(&mut every_row));
}

/// Long floods of plain lines, so that skimming fast-forwards: numbered lines,
/// some with an SGR, some a screen wide or wrapping, with a tab, or ending in
/// a bare LF.
fn plain_flood(rng: &mut Rng, line: &mut usize, lines: usize, cols: u16) -> Vec<u8> {
    const SGRS: [&[u8]; 6] = [
        b"\x1b[m",
        b"\x1b[0;1;31m",
        b"\x1b[38;5;208m",
        b"\x1b[4:3m",
        b"\x1b[7m",
        b"\x1b[48;2;1;2;3m",
    ];
    let cols = usize::from(cols);
    let mut out = Vec::new();
    for _ in 0..lines {
        *line += 1;
        if rng.below(3) == 0 {
            out.extend_from_slice(SGRS[rng.below(SGRS.len())]);
        }
        out.extend_from_slice(format!("line {line}").as_bytes());
        match rng.below(6) {
            0 => out.extend(std::iter::repeat_n(b'x', cols.saturating_sub(5))),
            1 => out.push(b'\t'),
            2 => out.extend(std::iter::repeat_n(b'y', rng.below(cols * 3))),
            _ => {}
        }
        out.extend_from_slice(if rng.below(20) == 0 { b"\n" } else { b"\r\n" });
    }
    out
}

#[test]
fn fast_forwarded_floods_leave_the_history_and_screen_parsing_every_row_would() {
    let mut rng = Rng(0x5eed_1e55_c0ff_ee12);
    let mut fast_forwarded = 0;
    for case in 0..150 {
        let keep = [1, 3, 8, 20, 50, 200][rng.below(6)];
        let start = size(5 + rng.below(40) as u16, 1 + rng.below(12) as u16);
        let mut every_row = Shadow::new(start, keep);
        let mut skimming = Shadow::new(start, keep);
        let mut line = 0;
        for _ in 0..30 {
            let n = rng.below(400);
            let mut output = if rng.below(3) == 0 {
                random_output(&mut rng, 1 + n % 30, &mut line)
            } else {
                plain_flood(&mut rng, &mut line, n, skimming.size().cols)
            };
            if rng.below(4) == 0 {
                let pieces = 1 + rng.below(5);
                output.extend_from_slice(&random_output(&mut rng, pieces, &mut line));
            }
            // Cut anywhere, up to three times.
            let mut cuts: Vec<usize> = (0..rng.below(4))
                .map(|_| rng.below(output.len() + 1))
                .chain([0, output.len()])
                .collect();
            cuts.sort_unstable();
            for part in cuts.windows(2).map(|w| &output[w[0]..w[1]]) {
                every_row.process(part);
                skimming.process(part);
            }
            match rng.below(12) {
                0..=4 => {
                    skimming.begin_skim();
                }
                5 => {
                    skimming.settle_history();
                }
                6 => assert_eq!(
                    history_of(&mut skimming),
                    history_of(&mut every_row),
                    "case {case}"
                ),
                7 => {
                    let to = size(5 + rng.below(40) as u16, 1 + rng.below(12) as u16);
                    every_row.resize(to);
                    skimming.resize(to);
                }
                8 => {
                    // In steps, as the parser thread formats.
                    while skimming.settle_step(1 + rng.below(4096)).is_none() {}
                }
                _ => {}
            }
            assert_eq!(
                skimming.with_screen(|s| format!("{s:?}")),
                every_row.with_screen(|s| format!("{s:?}")),
                "case {case}"
            );
        }
        assert_eq!(
            history_of(&mut skimming),
            history_of(&mut every_row),
            "case {case}"
        );
        fast_forwarded += skimming.fast_forwarded;
    }
    assert!(
        fast_forwarded > 1_000_000,
        "only {fast_forwarded} bytes fast-forwarded"
    );
}
