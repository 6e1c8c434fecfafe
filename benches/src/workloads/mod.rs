//! The byte streams the benchmarks push through each terminal, generated
//! deterministically so every run and every tool sees the same bytes.

pub mod coloured;
pub mod rng;
pub mod screen;
pub mod tui;

/// The three throughput workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `seq 1 N`: short lines, every one scrolls.
    Seq,
    /// `cat` of coloured lines, about a dozen 256-colour/truecolour SGRs each.
    Coloured,
    /// `cat` of a TUI repaint stream: cursor movement, erases, full redraws.
    Tui,
}

impl Workload {
    pub const ALL: [Workload; 3] = [Workload::Seq, Workload::Coloured, Workload::Tui];

    pub fn label(self) -> &'static str {
        match self {
            Workload::Seq => "seq",
            Workload::Coloured => "coloured cat",
            Workload::Tui => "TUI repaint",
        }
    }
}

/// What `seq 1 n` prints.
pub fn seq_bytes(n: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n as usize * 8);
    for i in 1..=n {
        out.extend_from_slice(i.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// What a program's output looks like on the master side of a pty in its default
/// (cooked, `onlcr`) mode: every `\n` becomes `\r\n`. The shadow parser sees this.
pub fn as_pty_output(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_bytes_match_seq() {
        assert_eq!(seq_bytes(3), b"1\n2\n3\n");
    }

    #[test]
    fn pty_output_has_carriage_returns() {
        assert_eq!(as_pty_output(b"a\nb\n"), b"a\r\nb\r\n");
    }
}
