//! Telling a terminal's replies to queries (colours, modes, keyboard flags) apart
//! from typed keys, so the server can take them from the input owner only.

/// True when `input` is one or more complete query replies and nothing else.
pub fn is_terminal_reply(input: &[u8]) -> bool {
    let mut rest = input;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        match reply_len(rest) {
            Some(len) => rest = &rest[len..],
            None => return false,
        }
    }
    true
}

fn reply_len(input: &[u8]) -> Option<usize> {
    match input {
        // OSC, DCS and APC strings end with BEL or ST; keys never produce them.
        [0x1b, b']' | b'P' | b'_', body @ ..] => {
            let end = body.iter().enumerate().find_map(|(i, &b)| match b {
                0x07 => Some(i + 1),
                0x1b if body.get(i + 1) == Some(&b'\\') => Some(i + 2),
                _ => None,
            })?;
            Some(2 + end)
        }
        // CSI ? ... (u | c | $y) and CSI > ... c: keyboard flags, attributes, mode reports.
        [0x1b, b'[', marker @ (b'?' | b'>'), body @ ..] => {
            let end = body.iter().position(|b| (0x40..=0x7e).contains(b))?;
            let params = &body[..end];
            let ok = match (marker, body[end]) {
                (b'?', b'u' | b'c') | (b'>', b'c') => true,
                (b'?', b'y') => params.last() == Some(&b'$'),
                _ => false,
            };
            ok.then_some(3 + end + 1)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_recognised() {
        assert!(is_terminal_reply(b"\x1b]11;rgb:0000/0000/0000\x1b\\"));
        assert!(is_terminal_reply(b"\x1b]10;rgb:ffff/ffff/ffff\x07"));
        assert!(is_terminal_reply(b"\x1b[?1u\x1b[?62;22c"));
        assert!(is_terminal_reply(b"\x1b[?2026;2$y"));
        assert!(is_terminal_reply(b"\x1bP>|xterm(388)\x1b\\"));
    }

    #[test]
    fn keys_are_not_replies() {
        for keys in [
            &b"a"[..],
            b"\x1b[A",
            b"\x1b[1;5R",
            b"\x1b]",
            b"\x1b[97;5u",
            b"\x1b",
            b"\r",
        ] {
            assert!(!is_terminal_reply(keys), "{keys:?}");
        }
    }
}
