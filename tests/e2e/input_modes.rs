//! Input modes a program turned on (bracketed paste, application cursor keys,
//! mouse reporting) are set again on reattach, and reset in the local terminal on detach.

use vt100::{MouseProtocolEncoding, MouseProtocolMode};

use crate::harness::{Home, Term};

fn modes(term: &Term) -> (bool, bool, MouseProtocolMode, MouseProtocolEncoding) {
    term.with_screen(|s| {
        (
            s.bracketed_paste(),
            s.application_cursor(),
            s.mouse_protocol_mode(),
            s.mouse_protocol_encoding(),
        )
    })
}

const ON: (bool, bool, MouseProtocolMode, MouseProtocolEncoding) = (
    true,
    true,
    MouseProtocolMode::PressRelease,
    MouseProtocolEncoding::Sgr,
);
const OFF: (bool, bool, MouseProtocolMode, MouseProtocolEncoding) = (
    false,
    false,
    MouseProtocolMode::None,
    MouseProtocolEncoding::Default,
);

fn attach_and_detach(home: &Home) {
    let mut term = Term::symp(home, &["attach", "modal"], 80, 24);
    term.wait_for_text("modes on");
    assert_eq!(modes(&term), ON, "modes on attach");
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from modal]");
    assert_eq!(term.wait_exit(), 0);
    assert_eq!(modes(&term), OFF, "modes after detach");
}

#[test]
fn input_modes_are_restored_on_reattach_and_reset_after_detach() {
    let home = Home::new();
    home.spawn(
        "modal",
        &[
            "sh",
            "-c",
            r"printf '\033[?2004h\033[?1h\033[?1000h\033[?1006hmodes on\r\n'; exec sleep 1000",
        ],
    );
    attach_and_detach(&home);
    attach_and_detach(&home);
}
