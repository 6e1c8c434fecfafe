//! An idle session's screen packed into the bytes that rebuild it: a few KiB
//! where vt100 keeps a 32-byte cell for every position (150 KiB at 120x40,
//! blank or not). Packing is checked, not trusted: the rebuilt screen must
//! answer every probe exactly as the original does, or the screen stays as is.

use std::fmt::Write as _;
use std::num::NonZeroU16;

use crate::shadow::nonzero;

pub struct PackedScreen {
    rows: NonZeroU16,
    cols: NonZeroU16,
    /// Lines scrolled off the top of the main screen, as vt100 counts them
    /// (see `scrolled_off`).
    scrolled_off: u32,
    bytes: Box<[u8]>,
}

impl PackedScreen {
    /// Packs `screen`, parsed up to a boundary between sequences. None when the
    /// bytes cannot rebuild it exactly: a probe tells the two apart (origin mode
    /// now, a scroll region on the screen not in use, a saved cursor waiting to
    /// wrap).
    pub fn pack(screen: &vt100::Screen) -> Option<Self> {
        let (rows, cols) = screen.size();
        // Too small to be worth it, and where vt100 has edge cases of its own
        // (a review found probes of one-column screens that make it panic), or
        // the probes do (the scroll-region probe needs three rows: on two,
        // origin mode went unseen).
        if rows.get() < 3 || cols.get() < 4 {
            return None;
        }
        let packed = Self {
            rows,
            cols,
            scrolled_off: scrolled_off(screen),
            bytes: rebuild_sequence(screen)?.into_bytes().into_boxed_slice(),
        };
        indistinguishable(screen, packed.rebuild().screen()).then_some(packed)
    }

    /// The packed size in bytes.
    pub fn len(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes.len()
    }

    /// Rows and columns of the packed screen.
    pub fn size(&self) -> (NonZeroU16, NonZeroU16) {
        (self.rows, self.cols)
    }

    /// Puts the screen back into `parser`, a fresh one of the same size: its own
    /// parser state is between sequences, as the original's was when packed.
    pub fn unpack_into<CB: vt100::Callbacks>(&self, parser: &mut vt100::Parser<CB>) {
        let mut rebuilt = self.rebuild();
        std::mem::swap(parser.screen_mut(), rebuilt.screen_mut());
    }

    /// A parser whose screen is this one again.
    pub fn rebuild(&self) -> vt100::Parser {
        let mut parser = with_scrolled_off(self.scrolled_off, self.rows, self.cols);
        parser.process(&self.bytes);
        parser
    }
}

/// Bytes that take a fresh screen (counting `scrolled_off` lines) to `screen`'s
/// state. For each of the two screens (the one not in use first, entered
/// with mode 47, which neither clears nor moves the cursor): the cursor `ESC 8`
/// returns to, then vt100's own restore (contents, cursor, attributes; input
/// modes for the one in use). Then the scroll region of the one in use, and,
/// when needed, the character that `CSI b` repeats, printed and erased.
fn rebuild_sequence(screen: &vt100::Screen) -> Option<String> {
    let (rows, cols) = screen.size();
    let mut out = String::new();
    if screen.alternate_screen() {
        let main = probe(screen, b"\x1b[?47l");
        write_saved_cursor(&mut out, main.screen());
        out.push_str(&main.screen().contents_formatted());
        out.push_str("\x1b[?47h");
    } else {
        // What an earlier program left on the alternate screen shows again
        // through mode 47 (1049 clears it).
        let alternate = probe(screen, b"\x1b[?47h");
        let mut unused = vt100::Parser::new(rows, cols, 0);
        unused.process(b"\x1b[?47h");
        if alternate.screen().state_formatted() != unused.screen().state_formatted() {
            out.push_str("\x1b[?47h");
            write_saved_cursor(&mut out, alternate.screen());
            out.push_str(&alternate.screen().contents_formatted());
            out.push_str("\x1b[?47l");
        }
    }
    write_saved_cursor(&mut out, screen);
    out.push_str(&screen.state_formatted());
    // A scroll region goes after the contents (vt100 places rows with line
    // feeds, which would scroll inside it); setting one moves the cursor home.
    if let Some((top, bottom)) = scroll_region(screen) {
        let _ = write!(out, "\x1b[{};{}r", top + 1, bottom + 1);
        out.push_str(&screen.cursor_state_formatted());
        out.push_str(&screen.attributes_formatted());
    }

    let wanted = last_printed(screen);
    let mut so_far = vt100::Parser::new(rows, cols, 0);
    so_far.process(out.as_bytes());
    if last_printed(so_far.screen()) == wanted {
        return Some(out);
    }
    // Print it on a blank spot (room for a wide character, away from the last
    // column so nothing wraps), erase it again, and put cursor and attributes back.
    let c = wanted?;
    let (row, col) = blank_spot(screen)?;
    let _ = write!(
        out,
        "\x1b[m\x1b[{r};{c1}H{c}\x1b[{r};{c1}H\x1b[2X",
        r = row + 1,
        c1 = col + 1
    );
    out.push_str(&screen.cursor_state_formatted());
    out.push_str(&screen.attributes_formatted());
    Some(out)
}

/// vt100 counts the lines scrolled off the top of the main screen (as an
/// unbounded terminal would keep them) and, when the screen grows, brings back
/// a row at the top for each, as far as the count goes. A rebuilt screen gets
/// the same count, up to this: it differs only once the screen has grown by
/// more rows than this in all since it was packed, with no output scrolling
/// lines off in between (each pack counts afresh).
const SCROLLED_OFF_COUNTED: u32 = 65_535;

/// Rows a one-column copy grows by at a time to count, and the height of the
/// one-column screen that scrolls to set the count: the cost is a row each.
const COUNTING_ROWS: u16 = 1024;

/// How many lines scrolled off the top of the main screen, up to
/// `SCROLLED_OFF_COUNTED`. A one-column copy, cursor at home, grows by
/// `COUNTING_ROWS`: the cursor moves down by the rows brought back. With the
/// cursor at home, shrinking back scrolls nothing off, so it can grow again.
fn scrolled_off(screen: &vt100::Screen) -> u32 {
    let mut main = probe(screen, b"\x1b[?47l\x1b[?6l");
    let rows = main.screen().size().0;
    let grown = nonzero(rows.get().saturating_add(COUNTING_ROWS));
    main.screen_mut().set_size(rows, NonZeroU16::MIN);
    let mut counted = 0;
    loop {
        main.process(b"\x1b[H");
        main.screen_mut().set_size(grown, NonZeroU16::MIN);
        let brought_back = main.screen().cursor_position().0;
        counted += u32::from(brought_back);
        if brought_back < grown.get() - rows.get() || counted >= SCROLLED_OFF_COUNTED {
            return counted.min(SCROLLED_OFF_COUNTED);
        }
        main.process(b"\x1b[H");
        main.screen_mut().set_size(rows, NonZeroU16::MIN);
    }
}

/// A fresh parser of `rows` x `cols` whose main screen counts `lines` scrolled
/// off. Scrolling counts them; a one-column screen at least `COUNTING_ROWS`
/// tall scrolls that many lines at a time, a row each, before taking its size
/// (a shrink with the cursor at home scrolls nothing off).
fn with_scrolled_off(lines: u32, rows: NonZeroU16, cols: NonZeroU16) -> vt100::Parser {
    if lines == 0 {
        return vt100::Parser::new(rows, cols, 0);
    }
    let tall = rows.max(nonzero(COUNTING_ROWS));
    let mut parser = vt100::Parser::new(tall, NonZeroU16::MIN, 0);
    let mut left = lines;
    while left > 0 {
        let step = left.min(u32::from(tall.get()));
        parser.process(format!("\x1b[{step}S").as_bytes());
        left -= step;
    }
    parser.screen_mut().set_size(rows, cols);
    parser
}

/// The scroll region of the screen in use, unless it is the whole screen: its
/// top is where origin mode sends the cursor home, its bottom where the cursor
/// stops going down in origin mode.
fn scroll_region(screen: &vt100::Screen) -> Option<(u16, u16)> {
    let top = probe(screen, b"\x1b[?6h").screen().cursor_position().0;
    let bottom = probe(screen, b"\x1b[?6h\x1b[999;1H")
        .screen()
        .cursor_position()
        .0;
    let last_row = screen.size().0.get() - 1;
    (top != 0 || bottom != last_row).then_some((top, bottom))
}

/// Saves a cursor as the one `screen`'s `ESC 8` returns to: where, with what
/// attributes, and whether in origin mode (which shows as going home to the top
/// of a scroll region). Leaves origin mode off.
fn write_saved_cursor(out: &mut String, screen: &vt100::Screen) {
    let saved = probe(screen, b"\x1b8");
    let in_origin_mode = probe(screen, b"\x1b[2;3r\x1b8\x1b[H")
        .screen()
        .cursor_position()
        .0
        == 1;
    let (row, col) = saved.screen().cursor_position();
    if in_origin_mode {
        out.push_str("\x1b[?6h");
    }
    let _ = write!(out, "\x1b[{};{}H", row + 1, col + 1);
    out.push_str(&saved.screen().attributes_formatted());
    out.push_str("\x1b7\x1b[?6l");
}

/// The character vt100 repeats for `CSI b` (the last one printed), if any.
fn last_printed(screen: &vt100::Screen) -> Option<char> {
    let repeated = probe(screen, b"\x1b[?6l\x1b[2J\x1b[H\x1b[b");
    let cell = repeated.screen().cell(0, 0)?;
    cell.contents().chars().next()
}

/// Two blank cells side by side with default attributes, not touching the last
/// column.
fn blank_spot(screen: &vt100::Screen) -> Option<(u16, u16)> {
    let (rows, cols) = screen.size();
    let blank = |row, col| {
        screen.cell(row, col).is_some_and(|cell| {
            !cell.has_contents()
                && !cell.is_wide_continuation()
                && cell.fgcolor() == vt100::Color::Default
                && cell.bgcolor() == vt100::Color::Default
                && !(cell.bold() || cell.dim() || cell.italic())
                && !(cell.underline() || cell.inverse())
        })
    };
    (0..rows.get()).find_map(|row| {
        (0..cols.get().saturating_sub(2))
            .find(|&col| blank(row, col) && blank(row, col + 1))
            .map(|col| (row, col))
    })
}

/// True when no probe tells `a` and `b` apart: what each shows and where its
/// cursor is after the same input, for input that reaches the state
/// `state_formatted` leaves out.
fn indistinguishable(a: &vt100::Screen, b: &vt100::Screen) -> bool {
    // Each probe on the screen in use, then on the other one (entered with mode
    // 47 or left with it): the two keep their own scroll region, origin mode and
    // saved cursor.
    let probes = probes(a.size().0.get());
    let other_screen = if a.alternate_screen() {
        &b"\x1b[?47l"[..]
    } else {
        b"\x1b[?47h"
    };
    let on_both_screens = [&b""[..], other_screen]
        .into_iter()
        .flat_map(|enter| probes.iter().map(move |input| [enter, input].concat()));
    let same_after_input = on_both_screens.into_iter().all(|input| {
        let (a, b) = (probe(a, &input), probe(b, &input));
        same(a.screen(), b.screen())
    });
    // A resize: growing brings back a row at the top for each line scrolled
    // off (vt100 models an unbounded terminal), shrinking scrolls rows off.
    let (rows, cols) = (a.size().0.get(), a.size().1.get());
    let same_after_resize = [(rows + 3, cols), (rows.saturating_sub(2).max(1), cols + 2)]
        .into_iter()
        .all(|(rows, cols)| {
            [&b""[..], other_screen].iter().all(|then| {
                let (mut a, mut b) = (probe(a, b""), probe(b, b""));
                for parser in [&mut a, &mut b] {
                    parser.screen_mut().set_size(nonzero(rows), nonzero(cols));
                    parser.process(then);
                }
                same(a.screen(), b.screen())
            })
        });
    same_after_input && same_after_resize
}

fn same(a: &vt100::Screen, b: &vt100::Screen) -> bool {
    a.cursor_position() == b.cursor_position()
        && a.alternate_screen() == b.alternate_screen()
        && a.state_formatted() == b.state_formatted()
}

fn probes(rows: u16) -> Vec<Vec<u8>> {
    // Every row marked, then a reverse index at the top or a line feed at the
    // bottom: they scroll only inside the scroll region. Apart, as together
    // they cancel out for a region that ends at the last row.
    let mut marked = String::from("\x1b[?6l");
    for row in 1..=rows {
        let mark = char::from(b'a' + (row % 26) as u8);
        let _ = write!(marked, "\x1b[{row};1H{mark}");
    }
    let reverse_index_at_top = format!("{marked}\x1b[1;1H\x1bMZ");
    let line_feed_at_bottom = format!("{marked}\x1b[{rows};1H\nZ");
    [
        &b""[..],
        // The saved cursor, its attributes and origin mode.
        b"\x1b8X",
        b"\x1b[2;3r\x1b8\x1b[HX",
        // Origin mode now: home is the top of the scroll region.
        b"\x1b[2;3r\x1b[HX",
        // A cursor waiting to wrap; the current attributes.
        b"W",
        // Home, and the farthest corner a cursor move reaches (in origin mode,
        // the scroll region's).
        b"\x1b[HO\x1b[999;999HP",
        // The character `CSI b` repeats.
        b"\x1b[?6l\x1b[2J\x1b[H\x1b[b",
        reverse_index_at_top.as_bytes(),
        line_feed_at_bottom.as_bytes(),
        // The alternate screen as an earlier program left it (47 does not clear).
        b"\x1b[?47hA",
        // Switching screens saves and restores the cursor.
        b"\x1b[?1049hA\x1b[?1049lB",
        // Leaving the alternate screen, with and without restoring the cursor.
        b"\x1b[?1049lX",
        b"\x1b[?47lX",
    ]
    .iter()
    .map(|input| input.to_vec())
    .collect()
}

/// `screen` after `input`, on a copy.
fn probe(screen: &vt100::Screen, input: &[u8]) -> vt100::Parser {
    // A one-cell parser: its screen is replaced by the copy at once.
    let mut parser = vt100::Parser::new(NonZeroU16::MIN, NonZeroU16::MIN, 0);
    *parser.screen_mut() = screen.clone();
    parser.process(input);
    parser
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen_after(rows: u16, cols: u16, output: &[u8]) -> vt100::Parser {
        let size = |n| NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN);
        let mut parser = vt100::Parser::new(size(rows), size(cols), 0);
        parser.process(output);
        parser
    }

    /// Packs the screen `output` leaves, unpacks it, then feeds `more` to both,
    /// grows both and feeds `more` again: what they show must be the same at
    /// every step.
    fn round_trip(output: &[u8], more: &[u8]) -> Option<usize> {
        let mut original = screen_after(6, 20, output);
        let packed = PackedScreen::pack(original.screen())?;
        let mut unpacked = screen_after(6, 20, b"");
        packed.unpack_into(&mut unpacked);
        let steps: [&dyn Fn(&mut vt100::Parser); 3] =
            [&|_| {}, &|parser| parser.process(more), &|parser| {
                parser.screen_mut().set_size(nonzero(9), nonzero(21));
                parser.process(more);
            }];
        for (step, run) in steps.iter().enumerate() {
            run(&mut original);
            run(&mut unpacked);
            assert_eq!(
                unpacked.screen().state_formatted(),
                original.screen().state_formatted(),
                "step {step}: {:?} then {:?}",
                String::from_utf8_lossy(output),
                String::from_utf8_lossy(more)
            );
            assert_eq!(
                unpacked.screen().cursor_position(),
                original.screen().cursor_position()
            );
        }
        Some(packed.len())
    }

    const MORE: &[u8] =
        b"\x1b8saved\x1b[3b\r\nnext \x1b[1;32mline\x1b[m\r\n\x1b[?1049hALT\x1b[?1049lback";

    #[test]
    fn screens_come_back_exactly() {
        let screens: [&[u8]; 7] = [
            b"",
            b"$ ",
            b"one\r\ntwo \x1b[31;1mred\x1b[0m\r\n\x1b[7minverse\x1b[m \xe2\x9c\x93 \xe4\xbd\xa0\r\n$ ",
            b"\x1b[3;5H\x1b7\x1b[1;33m\x1b[Hsaved elsewhere\x1b[m",
            b"\x1b[?2004h\x1b[?1h\x1b=\x1b[?1000h\x1b[?1006h\x1b[5 q\x1b[?25lmodes",
            b"\x1b[?1049hfull-screen program\x1b[?1049lback on the main screen",
            b"main\r\n\x1b[?1049h\x1b[3;1H\x1b[1m> 1.\x1b[m choice\x1b[4;1H  2. other",
        ];
        for output in screens {
            assert!(round_trip(output, MORE).is_some(), "{output:?}");
        }
    }

    #[test]
    fn a_blank_screen_packs_to_a_few_bytes() {
        let packed = round_trip(b"", MORE);
        assert!(packed.is_some_and(|len| len < 100), "{packed:?}");
    }

    #[test]
    fn state_vt100_does_not_restore_is_refused_or_kept() {
        // A scroll region, origin mode, the alternate screen, a cursor waiting to
        // wrap at the end of a full row: either packed so that more output lands
        // the same, or not packed.
        for output in [
            &b"\x1b[2;4rregion"[..],
            b"\x1b[2;4r\x1b[?6hin origin mode",
            b"\x1b[?1049hon the alternate screen",
            b"12345678901234567890",
            b"\x1b[?47hleft on the alternate grid\x1b[?47l",
        ] {
            let _ = round_trip(output, MORE);
        }
        // A scroll region is recreated; origin mode on top of one is not.
        assert!(round_trip(b"\x1b[2;4rregion", MORE).is_some());
        assert!(round_trip(b"\x1b[2;4r\x1b[?6hin origin mode", b"").is_none());
    }

    /// Random output made of the sequences whose state vt100 keeps: whatever
    /// packs must go on exactly like the original under random further output.
    #[test]
    fn random_screens_that_pack_continue_exactly() {
        const PIECES: [&[u8]; 31] = [
            b"text",
            b"\r\n",
            b"\n",
            b"\r",
            b"\x08",
            b"\t",
            b"\x1b[31;1m",
            b"\x1b[m",
            b"\x1b[38;5;200;48;2;1;2;3m",
            b"\x1b[2;4r",
            b"\x1b[r",
            b"\x1b[?6h",
            b"\x1b[?6l",
            b"\x1b7",
            b"\x1b8",
            b"\x1b[?1049h",
            b"\x1b[?1049l",
            b"\x1b[?47h",
            b"\x1b[?47l",
            b"\x1b[3;15H",
            b"\x1bM",
            b"\x1b[2b",
            "wide \u{4f60}\u{597d}".as_bytes(),
            b"\x1b[L\x1b[2M\x1b[K\x1b[1J",
            "\x1b[1;19H\u{4f60}e\u{301}".as_bytes(),
            b"\x1b[5 q\x1b[?25l",
            b"\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b=",
            b"\x1b[2@\x1b[P\x1b[3X",
            b"\x1b[S\x1b[2T",
            b"\x1b[?6h\x1b[2;5r\x1b7",
            b"\x1b[2r",
        ];
        let mut seed = 0x0bad_c0de_1357_9bdf_u64;
        let mut random_output = |pieces: usize| {
            let mut out = Vec::new();
            for _ in 0..pieces {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                out.extend_from_slice(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            out
        };
        let mut packed = 0;
        for _ in 0..1500 {
            let output = random_output(12);
            let more = random_output(12);
            packed += usize::from(round_trip(&output, &more).is_some());
        }
        // Most random screens carry some state vt100 cannot restore; enough
        // must pack for the continuations to have been compared.
        assert!(packed > 100, "only {packed} of 1,500 packed");
    }

    #[test]
    fn a_scroll_region_down_to_the_last_row_is_not_lost() {
        // A fixed status line above a region that ends at the bottom.
        let packed = round_trip(b"status line\x1b[2;6r\x1b[6;1H$ ", b"\r\nmore\r\n");
        assert!(packed.is_some(), "the region is recreated");
    }

    #[test]
    fn lines_scrolled_off_come_back_the_same_when_the_screen_grows() {
        for output in [
            &b"1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n$ "[..],
            b"\x1b[3S\x1b[?47h",
        ] {
            let mut original = screen_after(6, 20, output);
            let packed = PackedScreen::pack(original.screen()).expect("packs");
            let mut unpacked = screen_after(6, 20, b"");
            packed.unpack_into(&mut unpacked);
            for parser in [&mut original, &mut unpacked] {
                parser.screen_mut().set_size(nonzero(10), nonzero(20));
                parser.process(b"\x1b[?47l\x1b8after");
            }
            assert_eq!(
                unpacked.screen().state_formatted(),
                original.screen().state_formatted()
            );
        }
    }

    #[test]
    fn the_right_half_of_a_wide_character_is_no_blank_spot() {
        let parser = screen_after(6, 20, "\x1b[2;1Ha\x1b[1;1H\u{4f60}".as_bytes());
        assert_eq!(blank_spot(parser.screen()), Some((0, 2)));
        assert!(PackedScreen::pack(parser.screen()).is_some());
    }

    #[test]
    fn scrolled_off_lines_last_through_many_resizes() {
        // 2,000 lines scrolled off, then the screen shrinks and grows again and
        // again (a phone and a desktop taking turns), its program redrawing
        // from the top: each growth brings back rows counted before packing.
        let mut output = Vec::new();
        for i in 0..2000 {
            output.extend_from_slice(format!("line {i}\r\n").as_bytes());
        }
        let mut original = screen_after(6, 20, &output);
        let packed = PackedScreen::pack(original.screen()).expect("packs");
        let mut unpacked = screen_after(6, 20, b"");
        packed.unpack_into(&mut unpacked);
        for cycle in 0..600 {
            for parser in [&mut original, &mut unpacked] {
                parser.process(b"\x1b[H\x1b[2Jprompt");
                parser.screen_mut().set_size(nonzero(2), nonzero(20));
                parser.screen_mut().set_size(nonzero(6), nonzero(20));
            }
            assert_eq!(
                unpacked.screen().state_formatted(),
                original.screen().state_formatted(),
                "cycle {cycle}"
            );
        }
    }

    #[test]
    fn scrolled_off_is_counted_past_a_thousand() {
        let mut output = Vec::new();
        for i in 0..3000 {
            output.extend_from_slice(format!("{i}\r\n").as_bytes());
        }
        let parser = screen_after(6, 20, &output);
        assert_eq!(scrolled_off(parser.screen()), 2995);
        let packed = PackedScreen::pack(parser.screen()).expect("packs");
        assert_eq!(scrolled_off(packed.rebuild().screen()), 2995);
    }

    #[test]
    fn origin_mode_on_a_two_row_screen_is_not_lost() {
        use crate::shadow::Shadow;
        use symp_protocol::Size;
        let (mut live, mut packed) = (
            Shadow::new(Size { cols: 15, rows: 2 }, 10),
            Shadow::new(Size { cols: 15, rows: 2 }, 10),
        );
        live.process(b"\x1b[?6h");
        packed.process(b"\x1b[?6h");
        packed.pack();
        for shadow in [&mut live, &mut packed] {
            shadow.resize(Size { cols: 10, rows: 6 });
            shadow.process(b"\x1b[;4r\x1b[9H");
        }
        assert_eq!(
            packed.with_screen(vt100::Screen::cursor_position),
            live.with_screen(vt100::Screen::cursor_position)
        );
    }
}
