//! The shadow screen's own tests: history, restore, packing.

use super::*;

fn size(cols: u16, rows: u16) -> Size {
    Size { cols, rows }
}

/// The last ten history lines without their SGR sequences.
fn plain_history(s: &Shadow) -> Vec<String> {
    s.state()
        .history
        .last(10)
        .map(crate::history::plain_text)
        .collect()
}

#[test]
fn lines_leaving_the_main_screen_become_history() {
    let mut s = Shadow::new(size(20, 3), 100);
    s.process(b"one\r\n\x1b[31mtwo\x1b[m\r\nthree\r\nfour");
    let lines: Vec<_> = s.state().history.last(10).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0], "one");
    s.process(b"\r\nfive");
    assert_eq!(plain_history(&s), ["one", "two"]);
}

#[test]
fn alternate_screen_scrolling_does_not_touch_history() {
    let mut s = Shadow::new(size(20, 3), 100);
    s.process(b"\x1b[?1049h1\r\n2\r\n3\r\n4\r\n5");
    assert!(s.state().history.is_empty());
}

#[test]
fn restore_sequence_redraws_the_same_screen() {
    let mut s = Shadow::new(size(30, 5), 100);
    s.process(
        b"a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n\x1b[1;32mgreen\x1b[m \x1b[?2004h\x1b]2;my title\x07",
    );
    let mut viewer = vt100::Parser::new(nonzero(5), nonzero(30), 100);
    viewer.process(&s.restore_sequence(100));
    assert_eq!(
        viewer.screen().contents(),
        s.with_screen(vt100::Screen::contents)
    );
    assert_eq!(
        viewer.screen().cursor_position(),
        s.with_screen(vt100::Screen::cursor_position)
    );
    assert!(viewer.screen().bracketed_paste());
    assert!(viewer.screen().cell(4, 0).is_some_and(|c| c.bold()));
    // Read the viewer's own scrollback, oldest line first.
    let len = viewer.screen().scrollback_len();
    let mut scrolled_back = Vec::new();
    for offset in (1..=len).rev() {
        viewer.screen_mut().set_scrollback(offset);
        scrolled_back.push(viewer.screen().rows(0, 30).next().unwrap_or_default());
    }
    let text: Vec<&str> = scrolled_back
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        text,
        ["a", "b"],
        "history replayed into the terminal's scrollback"
    );
}

#[test]
fn kitty_flags_and_focus_are_tracked() {
    let mut s = Shadow::new(size(10, 2), 10);
    s.process(b"\x1b[>1u\x1b[>3u\x1b[<u\x1b[?1004h");
    assert_eq!(s.state().kitty_flags, vec![1]);
    assert!(s.state().focus_reporting);
    let mut out = String::new();
    s.write_extra_modes(&mut out);
    assert_eq!(out, "\x1b[?1004h\x1b[>1u");
}

#[test]
fn a_packed_screen_keeps_its_state_and_parses_on() {
    let mut s = Shadow::new(size(20, 3), 100);
    s.process(b"one\r\ntwo\r\n\x1b[1mthree\r\nfour\x1b]2;t\x07\x1b[?1004h");
    let picture = s.picture_hash();
    let formatted = s.with_screen(vt100::Screen::state_formatted);
    assert!(s.pack() > 0);
    assert!(s.is_packed());
    assert_eq!(s.picture_hash(), picture);
    assert_eq!(s.state().title, "t");
    assert!(s.state().focus_reporting);
    assert_eq!(s.state().history.len(), 1);
    assert_eq!(s.with_screen(vt100::Screen::state_formatted), formatted);
    assert!(s.is_packed(), "reading a packed screen leaves it packed");
    s.process(b"\r\nfive");
    assert!(!s.is_packed(), "output brings it back");
    assert_eq!(plain_history(&s), ["one", "two"]);
    assert!(
        s.with_screen(|screen| screen.cell(2, 0).is_some_and(vt100::Cell::bold)),
        "still bold"
    );
}

#[test]
fn output_stopped_inside_a_sequence_is_not_packed() {
    let mut s = Shadow::new(size(20, 3), 100);
    s.process(b"text \x1b[3");
    assert_eq!(s.pack(), 0);
    s.process(b"1mred");
    assert!(s.pack() > 0);
    s.process(b" more");
    let cell = s.with_screen(|screen| screen.cell(0, 9).cloned());
    assert!(cell.is_some_and(|c| c.contents() == "m" && c.fgcolor() == vt100::Color::Idx(1)));
}

#[test]
fn a_packed_screen_is_replaced_only_if_nothing_changed_meanwhile() {
    let mut s = Shadow::new(size(20, 3), 100);
    s.process(b"before");
    let job = s.screen_to_pack().expect("live, between sequences");
    let packed = PackedScreen::pack(&job.screen).expect("packs");
    s.process(b" after");
    assert_eq!(s.install_packed(&job, packed), 0);
    assert!(!s.is_packed());
    assert!(s.with_screen(vt100::Screen::contents).contains("after"));
    // Tried a moment ago: not again so soon.
    assert!(s.screen_to_pack().is_none());
}

#[test]
fn a_packed_screen_grows_as_the_live_one_would() {
    let output = b"1\r\n2\r\n3\r\n4\r\n5\r\n$ ";
    let (mut live, mut packed) = (Shadow::new(size(10, 4), 100), Shadow::new(size(10, 4), 100));
    live.process(output);
    packed.process(output);
    assert!(packed.pack() > 0 && packed.is_packed());
    live.resize(size(10, 6));
    packed.resize(size(10, 6));
    assert_eq!(
        packed.with_screen(vt100::Screen::state_formatted),
        live.with_screen(vt100::Screen::state_formatted)
    );
}
