//! Screens for the attach benchmark: plain text lines, optionally with history
//! above them, and a known marker alone on the last row of the screen.

use std::io::Write as _;

/// `history` lines that will scroll off, then a full screen of `rows` rows whose
/// last row is `marker` (no newline after it, so the screen does not scroll again).
pub fn screen_with_marker(history: usize, rows: u16, marker: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let lines = history + usize::from(rows) - 1;
    for i in 1..=lines {
        // Writing into a Vec cannot fail.
        let _ = writeln!(
            out,
            "line {i:05}: the quick brown fox jumps over the lazy dog, again and again"
        );
    }
    out.extend_from_slice(marker.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use symp_protocol::Size;
    use symp_server::shadow::Shadow;

    use super::*;
    use crate::workloads::as_pty_output;

    #[test]
    fn the_marker_sits_on_the_last_row_and_history_is_kept() {
        let mut shadow = Shadow::new(
            Size {
                cols: 120,
                rows: 40,
            },
            10_000,
        );
        shadow.process(&as_pty_output(&screen_with_marker(1000, 40, "MARK")));
        let rows: Vec<String> = shadow.with_screen(|screen| screen.rows(0, 120).collect());
        assert_eq!(rows[39], "MARK");
        assert_eq!(shadow.history().len(), 1000);
    }
}
