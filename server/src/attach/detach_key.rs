//! The detach key: recognised in legacy form (a control byte) and in the kitty
//! keyboard protocol's `CSI codepoint;5u` form, since agent TUIs enable the latter.
//! One press detaches; a second press within the window sends one literal key.

use anyhow::{bail, Result};

/// How long after one press a second one still means "send it literally".
pub const DOUBLE_PRESS_WINDOW_MS: u64 = 300;

#[derive(Debug, Clone)]
pub struct DetachKey {
    byte: u8,
    /// The kitty keyboard protocol encodings of pressing the same key.
    kitty: [Vec<u8>; 2],
    /// Its repeat and release events (when the program asked for event types):
    /// they belong to the press, so they are swallowed, never "another key".
    kitty_other_events: [Vec<u8>; 2],
}

impl DetachKey {
    /// Parses `C-\`, `C-a`, `^]` (and the same in any case).
    pub fn parse(text: &str) -> Result<Self> {
        let key = text
            .strip_prefix("C-")
            .or_else(|| text.strip_prefix("c-"))
            .or_else(|| text.strip_prefix('^'));
        let Some(key) = key else {
            bail!("detach key {text:?} must look like C-\\ or ^A")
        };
        let mut chars = key.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            bail!("detach key {text:?} must be one Ctrl+character")
        };
        let c = c.to_ascii_lowercase();
        if !matches!(c, 'a'..='z' | '[' | '\\' | ']' | '^' | '_' | '@') {
            bail!("detach key {text:?}: Ctrl+{c} has no control code");
        }
        let byte = (c.to_ascii_uppercase() as u8) & 0x1f;
        let code = c as u32;
        Ok(Self {
            byte,
            kitty: [
                format!("\x1b[{code};5u").into_bytes(),
                format!("\x1b[{code};5:1u").into_bytes(),
            ],
            kitty_other_events: [
                format!("\x1b[{code};5:2u").into_bytes(),
                format!("\x1b[{code};5:3u").into_bytes(),
            ],
        })
    }

    /// If `input` starts with a repeat or release of this key, its length.
    fn other_event_len(&self, input: &[u8]) -> Option<usize> {
        self.kitty_other_events
            .iter()
            .find(|k| input.starts_with(k))
            .map(Vec::len)
    }

    /// If `input` starts with a press of this key, how many bytes it takes.
    fn match_len(&self, input: &[u8]) -> Option<usize> {
        if input.first() == Some(&self.byte) {
            return Some(1);
        }
        self.kitty
            .iter()
            .find(|k| input.starts_with(k))
            .map(Vec::len)
    }
}

impl Default for DetachKey {
    fn default() -> Self {
        Self::parse("C-\\").unwrap_or_else(|_| unreachable!("the default key parses"))
    }
}

/// What the keys typed mean.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// Bytes for the program.
    Send(Vec<u8>),
    /// The key was pressed once: detach unless it comes again within the window.
    Armed,
    Detach,
}

pub struct DetachFilter {
    key: DetachKey,
    armed: bool,
}

impl DetachFilter {
    pub fn new(key: DetachKey) -> Self {
        Self { key, armed: false }
    }

    /// Splits typed input into actions, in order.
    pub fn feed(&mut self, input: &[u8]) -> Vec<KeyAction> {
        let mut actions = Vec::new();
        let mut plain = Vec::new();
        let mut i = 0;
        while i < input.len() {
            if let Some(len) = self.key.other_event_len(&input[i..]) {
                i += len;
                continue;
            }
            match self.key.match_len(&input[i..]) {
                Some(len) if self.armed => {
                    self.armed = false;
                    plain.extend_from_slice(&input[i..i + len]);
                    i += len;
                }
                Some(len) => {
                    if !plain.is_empty() {
                        actions.push(KeyAction::Send(std::mem::take(&mut plain)));
                    }
                    self.armed = true;
                    i += len;
                }
                None if self.armed => {
                    // Something else after one press: that press meant detach.
                    self.armed = false;
                    actions.push(KeyAction::Detach);
                    return actions;
                }
                None => {
                    plain.push(input[i]);
                    i += 1;
                }
            }
        }
        if !plain.is_empty() {
            actions.push(KeyAction::Send(plain));
        }
        if self.armed {
            actions.push(KeyAction::Armed);
        }
        actions
    }

    /// The window after one press ran out.
    pub fn expire(&mut self) -> bool {
        std::mem::take(&mut self.armed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> DetachFilter {
        DetachFilter::new(DetachKey::default())
    }

    #[test]
    fn plain_keys_pass() {
        assert_eq!(
            filter().feed(b"ls\r"),
            vec![KeyAction::Send(b"ls\r".to_vec())]
        );
    }

    #[test]
    fn one_press_arms_and_the_window_detaches() {
        let mut f = filter();
        assert_eq!(
            f.feed(b"x\x1c"),
            vec![KeyAction::Send(b"x".to_vec()), KeyAction::Armed]
        );
        assert!(f.expire());
    }

    #[test]
    fn two_presses_send_one_literal() {
        let mut f = filter();
        assert_eq!(f.feed(b"\x1c"), vec![KeyAction::Armed]);
        assert_eq!(f.feed(b"\x1c"), vec![KeyAction::Send(vec![0x1c])]);
        assert!(!f.expire());
        assert_eq!(
            filter().feed(b"\x1c\x1c"),
            vec![KeyAction::Send(vec![0x1c])]
        );
    }

    #[test]
    fn another_key_after_one_press_detaches() {
        let mut f = filter();
        f.feed(b"\x1c");
        assert_eq!(f.feed(b"q"), vec![KeyAction::Detach]);
    }

    #[test]
    fn kitty_encoded_ctrl_backslash_counts() {
        let mut f = filter();
        assert_eq!(f.feed(b"\x1b[92;5u"), vec![KeyAction::Armed]);
    }

    #[test]
    fn kitty_release_events_do_not_end_the_double_press_window() {
        let mut f = filter();
        assert_eq!(f.feed(b"\x1b[92;5:1u\x1b[92;5:3u"), vec![KeyAction::Armed]);
        assert_eq!(
            f.feed(b"\x1b[92;5:1u\x1b[92;5:3u"),
            vec![KeyAction::Send(b"\x1b[92;5:1u".to_vec())]
        );
    }

    #[test]
    fn other_keys_parse() {
        assert_eq!(DetachKey::parse("C-a").expect("parses").byte, 1);
        assert_eq!(DetachKey::parse("^]").expect("parses").byte, 0x1d);
        assert!(DetachKey::parse("x").is_err());
        assert!(DetachKey::parse("C-1").is_err());
    }
}
