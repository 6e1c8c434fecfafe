//! Fast-forwarding a skimmed flood of plain lines: rows that will have scrolled
//! off the screen by the end of a batch are scrolled away, not drawn.
//!
//! Why: while skimming, a row leaving the screen is only counted (`skim.rs`),
//! yet vt100 still tokenized and drew every character of it, cell by cell:
//! most of the parser's time on a coloured flood, for rows nobody sees. The
//! parser fell megabytes behind such a flood, and a viewer's last bytes waited
//! for it (BENCHMARKS.md, the coloured target).
//!
//! When it is exact: from a point where the cursor is in column 0 of the bottom
//! row of a screen that scrolls whole (checked, not assumed: a line feed there
//! just pushed a row off the main screen), a stretch of plain lines (printable
//! ASCII and other characters vt100 draws one column wide, CR, LF, tab and
//! SGR) only ever writes the bottom row and scrolls. So once the stretch has
//! scrolled a whole screen further, nothing before that shows. Drawing resumes at the start of a line at least a screen's worth of
//! rows before the stretch ends; what came before it is stood in for by the
//! same number of scrolls (`CSI n S`, which push off blank rows and keep vt100's
//! count of rows scrolled off, that growing the screen brings back) and the SGR
//! sequences since the last reset (the attributes the rest is drawn in). The
//! rows pushed off differ, but a skimmed row's contents are never read: the
//! history keeps only rows formatted by parsing their output again.
//! vt100 has no insert mode, autowrap switch or newline mode, so plain text
//! does the same in any mode; the scroll region and the alternate screen are
//! what the check at the starting point rules out.

use unicode_width::UnicodeWidthChar as _;

use super::ShadowState;
use crate::stream_end::StreamEnd;

const ESC: u8 = 0x1b;
/// The longest SGR parameter string read as plain: only a bound on how far
/// to look for the final `m`. Longer ones are fine to vte (it keeps the first
/// 32 parameters, so a leading reset stays), and the stand-in repeats their
/// bytes anyway; truecolour pairs take 33 bytes.
const MAX_SGR_PARAMS: usize = 256;
/// Fewer rows than this are drawn rather than stood in for.
const MIN_SKIPPED_ROWS: u64 = 16;
/// Line feeds in a row at the bottom row that start no stretch worth skipping
/// (the screen scrolls in part, or not at all, or the lines are not plain)
/// before the rest of the call is simply drawn. Line feeds above the bottom
/// row count once there have been more than the screen has rows: from
/// anywhere on a screen that scrolls whole, those reach the bottom.
const MAX_FRUITLESS_LOOKS: usize = 16;

/// Feeds `bytes` to `parser` as `parser.process` would, but fast-forwards
/// through stretches of plain lines. Only while skimming: the rows pushed off
/// must be counted, never read. `stream_end` follows the real output. Returns
/// the bytes not drawn.
pub(super) fn feed(
    parser: &mut vt100::Parser<ShadowState>,
    stream_end: &mut StreamEnd,
    bytes: &[u8],
) -> usize {
    let mut skipped = 0;
    let mut fed = 0;
    let (mut fruitless, mut above_bottom) = (0, 0);
    while fruitless < MAX_FRUITLESS_LOOKS {
        let Some(lf) = bytes[fed..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let lf = fed + lf;
        draw(parser, stream_end, &bytes[fed..lf]);
        let (rows, cols) = parser.screen().size();
        let bottom_left = (rows.get() - 1, 0);
        let (row, col) = parser.screen().cursor_position();
        let departed = parser.callbacks().departed;
        draw(parser, stream_end, &bytes[lf..=lf]);
        fed = lf + 1;
        if row < bottom_left.0 {
            above_bottom += 1;
            if above_bottom > usize::from(rows.get()) {
                fruitless += 1;
            }
            continue;
        }
        let ready = col == 0;
        let scrolled_whole = parser.callbacks().departed == departed + 1;
        if !(ready
            && scrolled_whole
            && parser.screen().cursor_position() == bottom_left
            && stream_end.at_boundary())
        {
            fruitless += 1;
            continue;
        }
        let stretch = scan(&bytes[fed..], cols.get(), rows.get());
        let end = fed + stretch.end;
        match stretch.skip {
            Some(skip) => {
                parser.process(&skip.stand_in);
                stream_end.push(&bytes[fed..fed + skip.to]);
                fed += skip.to;
                skipped += skip.to;
                fruitless = 0;
            }
            None => fruitless += 1,
        }
        draw(parser, stream_end, &bytes[fed..end]);
        fed = end;
    }
    draw(parser, stream_end, &bytes[fed..]);
    skipped
}

fn draw(parser: &mut vt100::Parser<ShadowState>, stream_end: &mut StreamEnd, bytes: &[u8]) {
    if !bytes.is_empty() {
        parser.process(bytes);
        stream_end.push(bytes);
    }
}

/// A stretch of plain lines, scanned from column 0 of the bottom row.
#[derive(Debug)]
struct Stretch {
    /// Where it ends: the first byte that is not plain (or a sequence cut off).
    end: usize,
    /// Where drawing may resume, if that skips enough to pay.
    skip: Option<Skip>,
}

#[derive(Debug)]
struct Skip {
    /// Drawing resumes here, at the start of a line.
    to: usize,
    /// What stands in for the bytes before it.
    stand_in: Vec<u8>,
}

/// Scans the plain lines at the start of `bytes`, read from column 0 of the
/// bottom row of a `cols` x `rows` screen that scrolls whole, with vt100's
/// rules: a character past the last column wraps first, a tab stops every
/// eight columns and at the last, a line feed keeps the column.
fn scan(bytes: &[u8], cols: u16, rows: u16) -> Stretch {
    let mut found = Scan::default();
    let mut col = 0u16;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            0x20..=0x7e => {
                // A run of them at once: most of a line's bytes.
                let run = bytes[at..]
                    .iter()
                    .position(|b| !(0x20..=0x7e).contains(b))
                    .unwrap_or(bytes.len() - at);
                found.print(&mut col, run, cols);
                found.last_printable = Some(at + run - 1);
                at += run;
                continue;
            }
            b'\r' => col = 0,
            b'\t' => col = (col - col % 8).saturating_add(8).min(cols - 1),
            b'\n' => {
                found.scrolls += 1;
                if col == 0 {
                    found.line_starts.push((at + 1, found.scrolls));
                }
            }
            0x80.. => match width_one_char_at(&bytes[at..]) {
                // Drawn as a printable ASCII character is: one column.
                Some(len) => {
                    found.print(&mut col, 1, cols);
                    found.last_printable = Some(at);
                    at += len;
                    continue;
                }
                None => break,
            },
            ESC => match sgr_at(&bytes[at..]) {
                Some((len, resets)) => {
                    if resets {
                        found.resets.push(found.sgrs.len());
                    }
                    found.sgrs.push((at, at + len));
                    at += len;
                    continue;
                }
                None => break,
            },
            _ => break,
        }
        at += 1;
    }
    let skip = found.resume_point(rows).map(|(to, skipped)| Skip {
        to,
        stand_in: found.stand_in(bytes, to, skipped, rows),
    });
    Stretch { end: at, skip }
}

#[derive(Default)]
struct Scan {
    /// Rows scrolled off so far (line feeds and wraps: the cursor stays on the
    /// bottom row).
    scrolls: u64,
    /// Each line start in column 0, with the rows scrolled off before it.
    line_starts: Vec<(usize, u64)>,
    /// Where each SGR sequence is; which of them begin with a reset.
    sgrs: Vec<(usize, usize)>,
    resets: Vec<usize>,
    last_printable: Option<usize>,
}

impl Scan {
    /// `n` characters one column wide printed from column `col` (at most
    /// `cols`: past the last, waiting to wrap): each one that finds the
    /// cursor past the last column wraps first, scrolling a row off.
    fn print(&mut self, col: &mut u16, n: usize, cols: u16) {
        let room = usize::from(cols - *col);
        if n <= room {
            *col += n as u16;
            return;
        }
        let cols = usize::from(cols);
        let past = n - room;
        let wraps = past.div_ceil(cols);
        self.scrolls += wraps as u64;
        // In 1..=cols: the last wrap's row holds what is left.
        *col = (past - (wraps - 1) * cols) as u16;
    }

    /// The latest line start followed by at least a screen's worth of
    /// scrolls and by a printable character (vt100 remembers the last one for
    /// `CSI b`), with the rows scrolled before it; none if too few.
    fn resume_point(&self, rows: u16) -> Option<(usize, u64)> {
        let last_printable = self.last_printable?;
        let screen_after = self
            .line_starts
            .partition_point(|&(_, before)| self.scrolls - before >= u64::from(rows));
        let printable_after = self
            .line_starts
            .partition_point(|&(start, _)| start <= last_printable);
        let chosen = screen_after.min(printable_after).checked_sub(1)?;
        let (to, skipped) = self.line_starts[chosen];
        (skipped >= MIN_SKIPPED_ROWS).then_some((to, skipped))
    }

    /// The SGR sequences before `to` from the last reset on, then `skipped`
    /// scrolls in steps of at most a screen (vt100 scrolls no more at once).
    fn stand_in(&self, bytes: &[u8], to: usize, skipped: u64, rows: u16) -> Vec<u8> {
        let before = self.sgrs.partition_point(|&(start, _)| start < to);
        let last_reset = self.resets.partition_point(|&i| i < before);
        let from = last_reset.checked_sub(1).map_or(0, |r| self.resets[r]);
        let mut out = Vec::new();
        for &(start, end) in &self.sgrs[from..before] {
            out.extend_from_slice(&bytes[start..end]);
        }
        let mut left = skipped;
        while left > 0 {
            let step = left.min(u64::from(rows));
            out.extend_from_slice(format!("\x1b[{step}S").as_bytes());
            left -= step;
        }
        out
    }
}

/// The length of the UTF-8 character at the start of `bytes` if vt100 draws
/// it one column wide (by the same `unicode-width` it uses); `None` for
/// U+FFFD, which it does not draw at all, other widths (wide characters wrap early, combining ones join the cell
/// before), controls, invalid or cut-off bytes.
fn width_one_char_at(bytes: &[u8]) -> Option<usize> {
    let len = match bytes.first()? {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(bytes.get(..len)?)
        .ok()?
        .chars()
        .next()?;
    // vt100 draws nothing for U+FFFD (vte's stand-in for invalid bytes).
    (c != '\u{fffd}' && c.width() == Some(1)).then_some(len)
}

/// The length of the SGR sequence (`ESC [ digits, ; and : m`) at the start of
/// `bytes`, and whether it begins with a reset (no parameters, or `0` first);
/// `None` if it is not one, or is cut off.
fn sgr_at(bytes: &[u8]) -> Option<(usize, bool)> {
    let rest = bytes.strip_prefix(b"\x1b[")?;
    let params_len = rest
        .iter()
        .take(MAX_SGR_PARAMS + 1)
        .position(|&b| !matches!(b, b'0'..=b'9' | b';' | b':'))?;
    if params_len > MAX_SGR_PARAMS || rest[params_len] != b'm' {
        return None;
    }
    let params = &rest[..params_len];
    let resets = params.is_empty() || params == b"0" || params.starts_with(b"0;");
    Some((2 + params_len + 1, resets))
}

#[cfg(test)]
mod tests;
