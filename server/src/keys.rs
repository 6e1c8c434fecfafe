//! Named keys (`Enter`, `C-c`, `M-x`, `Up`, `F5`, ...) as the bytes a terminal would
//! send, in the encoding the program's current modes expect.

use anyhow::{bail, Result};

/// Encodes one key name. `app_cursor` is the program's application cursor mode
/// (DECCKM), which changes what the arrow, Home and End keys send.
pub fn encode_key(name: &str, app_cursor: bool) -> Result<Vec<u8>> {
    if let Some(rest) = name.strip_prefix("M-").or_else(|| name.strip_prefix("m-")) {
        if rest.is_empty() {
            bail!("unknown key {name:?}");
        }
        let mut bytes = vec![0x1b];
        bytes.extend(encode_key(rest, app_cursor).or_else(|_| single_char(rest, name))?);
        return Ok(bytes);
    }
    if let Some(rest) = name.strip_prefix("C-").or_else(|| name.strip_prefix("c-")) {
        return ctrl(rest, name);
    }
    let cursor = |c: char| -> Vec<u8> {
        if app_cursor {
            format!("\x1bO{c}").into_bytes()
        } else {
            format!("\x1b[{c}").into_bytes()
        }
    };
    let bytes = match name.to_ascii_lowercase().as_str() {
        "enter" | "return" | "cr" => b"\r".to_vec(),
        "tab" => b"\t".to_vec(),
        "btab" | "s-tab" | "backtab" => b"\x1b[Z".to_vec(),
        "escape" | "esc" => b"\x1b".to_vec(),
        "backspace" | "bspace" | "bs" => b"\x7f".to_vec(),
        "space" => b" ".to_vec(),
        "delete" | "del" | "dc" => b"\x1b[3~".to_vec(),
        "insert" | "ins" | "ic" => b"\x1b[2~".to_vec(),
        "up" => cursor('A'),
        "down" => cursor('B'),
        "right" => cursor('C'),
        "left" => cursor('D'),
        "home" => cursor('H'),
        "end" => cursor('F'),
        "pageup" | "pgup" | "ppage" => b"\x1b[5~".to_vec(),
        "pagedown" | "pgdn" | "npage" => b"\x1b[6~".to_vec(),
        other => match function_key(other) {
            Some(bytes) => bytes,
            None => {
                bail!("unknown key {name:?} (try Enter, Escape, Tab, Backspace, Up, C-c, M-x, F1)")
            }
        },
    };
    Ok(bytes)
}

fn single_char(text: &str, name: &str) -> Result<Vec<u8>> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c.to_string().into_bytes()),
        _ => bail!("unknown key {name:?}"),
    }
}

fn ctrl(rest: &str, name: &str) -> Result<Vec<u8>> {
    let mut chars = rest.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        if rest.eq_ignore_ascii_case("space") {
            return Ok(vec![0]);
        }
        bail!("unknown key {name:?}");
    };
    let byte = match c.to_ascii_lowercase() {
        c @ 'a'..='z' => c as u8 - b'a' + 1,
        '@' | ' ' | '2' => 0,
        '[' => 0x1b,
        '\\' => 0x1c,
        ']' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '-' | '/' => 0x1f,
        '?' => 0x7f,
        _ => bail!("unknown key {name:?}: Ctrl+{c} has no control code"),
    };
    Ok(vec![byte])
}

fn function_key(name: &str) -> Option<Vec<u8>> {
    let n: u8 = name.strip_prefix('f')?.parse().ok()?;
    let bytes = match n {
        1..=4 => format!("\x1bO{}", (b'P' + n - 1) as char),
        5 => "\x1b[15~".into(),
        6..=10 => format!("\x1b[{}~", n + 11),
        11 | 12 => format!("\x1b[{}~", n + 12),
        _ => return None,
    };
    Some(bytes.into_bytes())
}

/// Wraps pasted text in bracketed-paste markers when the program asked for them;
/// newlines become carriage returns, as a terminal pastes them.
pub fn encode_paste(text: &str, bracketed: bool) -> Vec<u8> {
    let body = text.replace("\r\n", "\r").replace('\n', "\r");
    if bracketed {
        format!("\x1b[200~{body}\x1b[201~").into_bytes()
    } else {
        body.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Vec<u8> {
        encode_key(name, false).expect(name)
    }

    #[test]
    fn common_keys() {
        assert_eq!(key("Enter"), b"\r");
        assert_eq!(key("escape"), b"\x1b");
        assert_eq!(key("C-c"), [3]);
        assert_eq!(key("C-z"), [26]);
        assert_eq!(key("M-x"), b"\x1bx");
        assert_eq!(key("M-Enter"), b"\x1b\r");
        assert_eq!(key("F1"), b"\x1bOP");
        assert_eq!(key("F5"), b"\x1b[15~");
        assert_eq!(key("F12"), b"\x1b[24~");
        assert_eq!(key("BSpace"), b"\x7f");
    }

    #[test]
    fn arrows_follow_application_cursor_mode() {
        assert_eq!(key("Up"), b"\x1b[A");
        assert_eq!(encode_key("Up", true).expect("up"), b"\x1bOA");
    }

    #[test]
    fn unknown_keys_are_errors() {
        for bad in ["Nope", "C-", "C-ab", "M-", "F13", "C-1"] {
            assert!(encode_key(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn paste_is_bracketed_only_when_asked() {
        assert_eq!(encode_paste("a\nb", true), b"\x1b[200~a\rb\x1b[201~");
        assert_eq!(encode_paste("a\nb", false), b"a\rb");
    }
}
