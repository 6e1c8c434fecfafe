//! Coloured log lines: about a dozen 256-colour and truecolour SGR sequences per
//! line, the way compilers, test runners and agent CLIs paint their output.

use std::io::Write as _;

use super::rng::Rng;

/// SGR sequences per line.
const SGRS_PER_LINE: usize = 12;

/// Appends one coloured line (ending in `\n`) whose visible text stays within
/// 120 columns, so it never wraps in the sessions under test.
pub fn push_coloured_line(rng: &mut Rng, out: &mut Vec<u8>) {
    for i in 0..SGRS_PER_LINE {
        // Writing into a Vec cannot fail.
        let _ = match i % 4 {
            0 => write!(out, "\x1b[38;5;{}m", rng.below(256)),
            1 => write!(
                out,
                "\x1b[38;2;{};{};{}m",
                rng.below(256),
                rng.below(256),
                rng.below(256)
            ),
            2 => write!(out, "\x1b[48;5;{}m", rng.below(256)),
            _ => write!(out, "\x1b[1;48;2;{};{};{}m", rng.below(256), 0, 64),
        };
        rng.word(out);
        out.push(b' ');
    }
    out.extend_from_slice(b"\x1b[0m\n");
}

/// Coloured lines until at least `target_bytes`.
pub fn coloured_bytes(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(0xC010_0125);
    let mut out = Vec::with_capacity(target_bytes + 512);
    while out.len() < target_bytes {
        push_coloured_line(&mut rng, &mut out);
    }
    out
}

/// Exactly `lines` coloured lines.
pub fn coloured_lines(lines: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x1135_0000);
    let mut out = Vec::with_capacity(lines * 300);
    for _ in 0..lines {
        push_coloured_line(&mut rng, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_a_dozen_sgrs_and_fit_the_width() {
        let bytes = coloured_lines(50);
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let sgrs = line.windows(2).filter(|w| w == b"\x1b[").count();
            assert_eq!(sgrs, SGRS_PER_LINE + 1, "a dozen colours and one reset");
            let visible = String::from_utf8_lossy(line)
                .split('\x1b')
                .map(|part| part.split_once('m').map_or(part, |(_, text)| text).len())
                .sum::<usize>();
            assert!(visible <= 120, "{visible} columns");
        }
    }
}
