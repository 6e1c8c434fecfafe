//! Scrollback kept outside vt100: rows that leave the top of the main screen, as
//! compact text + SGR lines, bounded in lines and in bytes.

use std::collections::VecDeque;

/// Byte budget per configured line: generous for coloured agent output, and a hard
/// ceiling however wide or colourful the lines are.
const BYTES_PER_LINE_BUDGET: usize = 512;

pub struct History {
    lines: VecDeque<Box<str>>,
    bytes: usize,
    /// Lines ever pushed, so a reader can tell which lines are new since it looked.
    pushed: u64,
    max_lines: usize,
    max_bytes: usize,
}

impl History {
    pub fn new(max_lines: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            bytes: 0,
            pushed: 0,
            max_lines,
            max_bytes: max_lines.saturating_mul(BYTES_PER_LINE_BUDGET),
        }
    }

    /// Appends a formatted line (SGR sequences allowed, no newline).
    pub fn push(&mut self, line: &str) {
        if self.max_lines == 0 {
            return;
        }
        self.bytes += line.len();
        self.pushed += 1;
        self.lines.push_back(line.into());
        while self.lines.len() > self.max_lines || self.bytes > self.max_bytes {
            match self.lines.pop_front() {
                Some(old) => self.bytes -= old.len(),
                None => break,
            }
        }
    }

    /// Counts `rows` lines as pushed without keeping them: at least `max_lines`
    /// newer lines follow them (and so every line held now), as when a flood was
    /// skimmed (`skim.rs`). Equal to pushing them and the rest after.
    pub fn skip_evicted(&mut self, rows: u64) {
        if self.max_lines == 0 || rows == 0 {
            return;
        }
        self.pushed += rows;
        self.lines.clear();
        self.bytes = 0;
    }

    /// The most lines it keeps.
    pub fn max_lines(&self) -> usize {
        self.max_lines
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The newest `n` lines, oldest first.
    pub fn last(&self, n: usize) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .skip(self.lines.len().saturating_sub(n))
            .map(|l| &**l)
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many lines were ever pushed (kept or not).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }
}

/// The text of a formatted history line, without its SGR sequences.
pub fn plain_text(line: &str) -> String {
    vt100::capture::basic_formatted_to_plain(line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_lines() {
        let mut h = History::new(3);
        for i in 0..10 {
            h.push(&format!("line {i}"));
        }
        assert_eq!(
            h.last(10).collect::<Vec<_>>(),
            ["line 7", "line 8", "line 9"]
        );
    }

    #[test]
    fn bounded_by_bytes() {
        let mut h = History::new(10);
        let long = "x".repeat(BYTES_PER_LINE_BUDGET * 4);
        for _ in 0..10 {
            h.push(&long);
        }
        assert!(h.bytes() <= 10 * BYTES_PER_LINE_BUDGET);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn plain_text_drops_colours() {
        assert_eq!(plain_text("\x1b[31mred\x1b[m ok"), "red ok");
    }
}
