//! Terminal queries the session answers itself (DA1, DA2, DSR, CPR): found and cut
//! out of the output stream by the pty reader, answered by the shadow parser at
//! their exact place in the stream, so the program gets exactly one answer whether
//! zero, one or many clients watch, and no client's terminal answers a second time.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// `CSI c` / `CSI 0 c`
    PrimaryAttributes,
    /// `CSI > c` / `CSI > 0 c`
    SecondaryAttributes,
    /// `CSI 5 n`
    DeviceStatus,
    /// `CSI 6 n`
    CursorPosition,
    /// `CSI ? 6 n`
    ExtendedCursorPosition,
}

impl Query {
    /// The reply a VT220-class colour terminal would give; `cursor` is 0-based (row, col).
    pub fn answer(self, cursor: (u16, u16)) -> Vec<u8> {
        let (row, col) = (u32::from(cursor.0) + 1, u32::from(cursor.1) + 1);
        match self {
            Query::PrimaryAttributes => b"\x1b[?62;22c".to_vec(),
            Query::SecondaryAttributes => b"\x1b[>1;10;0c".to_vec(),
            Query::DeviceStatus => b"\x1b[0n".to_vec(),
            Query::CursorPosition => format!("\x1b[{row};{col}R").into_bytes(),
            Query::ExtendedCursorPosition => format!("\x1b[?{row};{col}R").into_bytes(),
        }
    }
}

/// Longest query we recognise (`ESC [ > 0 c`) plus slack: a candidate longer than this
/// is not a query, so at most this much is ever held back between reads.
const MAX_QUERY_LEN: usize = 8;

enum Scan {
    Query(usize, Query),
    NotQuery,
    /// The buffer ended inside something that may still become a query.
    Incomplete,
}

/// Stateful across reads: a query split between two reads is still found.
#[derive(Default)]
pub struct QueryScanner {
    pending: Vec<u8>,
}

impl QueryScanner {
    /// Returns the output with queries cut out, and where each query stood in it.
    pub fn scan<'a>(&mut self, input: &'a [u8]) -> (Cow<'a, [u8]>, Vec<(usize, Query)>) {
        let joined;
        let buf: &[u8] = if self.pending.is_empty() {
            input
        } else {
            let mut v = std::mem::take(&mut self.pending);
            v.extend_from_slice(input);
            joined = v;
            &joined
        };
        let mut out: Option<Vec<u8>> = None;
        let mut queries = Vec::new();
        let mut copied_to = 0; // bytes of `buf` already accounted for in `out`
        let mut i = 0;
        while let Some(off) = buf[i..].iter().position(|&b| b == 0x1b) {
            let at = i + off;
            match scan_at(&buf[at..]) {
                Scan::Query(len, query) => {
                    let o = out.get_or_insert_with(|| Vec::with_capacity(buf.len()));
                    o.extend_from_slice(&buf[copied_to..at]);
                    queries.push((o.len(), query));
                    copied_to = at + len;
                    i = at + len;
                }
                Scan::NotQuery => i = at + 1,
                Scan::Incomplete => {
                    self.pending = buf[at..].to_vec();
                    let o = out.get_or_insert_with(|| Vec::with_capacity(buf.len()));
                    o.extend_from_slice(&buf[copied_to..at]);
                    copied_to = buf.len();
                    break;
                }
            }
        }
        let kept = match out {
            None if std::ptr::eq(buf, input) => Cow::Borrowed(input),
            None => Cow::Owned(buf.to_vec()),
            Some(mut o) => {
                o.extend_from_slice(&buf[copied_to..]);
                Cow::Owned(o)
            }
        };
        (kept, queries)
    }
}

fn scan_at(buf: &[u8]) -> Scan {
    // buf[0] is ESC.
    let Some(&second) = buf.get(1) else {
        return Scan::Incomplete;
    };
    if second != b'[' {
        return Scan::NotQuery;
    }
    let mut j = 2;
    let prefix = match buf.get(j) {
        None => return Scan::Incomplete,
        Some(&p @ (b'>' | b'?')) => {
            j += 1;
            Some(p)
        }
        Some(_) => None,
    };
    let digits_start = j;
    loop {
        match buf.get(j) {
            None if j < MAX_QUERY_LEN => return Scan::Incomplete,
            None => return Scan::NotQuery,
            Some(b'0'..=b'9') if j - digits_start < 3 => j += 1,
            Some(_) => break,
        }
    }
    let digits = &buf[digits_start..j];
    let query = match (prefix, digits, buf[j]) {
        (None, b"" | b"0", b'c') => Query::PrimaryAttributes,
        (Some(b'>'), b"" | b"0", b'c') => Query::SecondaryAttributes,
        (None, b"5", b'n') => Query::DeviceStatus,
        (None, b"6", b'n') => Query::CursorPosition,
        (Some(b'?'), b"6", b'n') => Query::ExtendedCursorPosition,
        _ => return Scan::NotQuery,
    };
    Scan::Query(j + 1, query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(scanner: &mut QueryScanner, input: &[u8]) -> (Vec<u8>, Vec<(usize, Query)>) {
        let (kept, queries) = scanner.scan(input);
        (kept.into_owned(), queries)
    }

    #[test]
    fn plain_and_coloured_output_pass_untouched() {
        let mut s = QueryScanner::default();
        let input = b"hi \x1b[38;5;196mred\x1b[0m \x1b[2J\x1b[10;4H";
        let (kept, queries) = s.scan(input);
        assert!(matches!(kept, Cow::Borrowed(_)));
        assert_eq!(&*kept, input);
        assert!(queries.is_empty());
    }

    #[test]
    fn each_query_is_cut_out_and_located() {
        let mut s = QueryScanner::default();
        let (kept, queries) = scan_all(&mut s, b"a\x1b[cb\x1b[>0cc\x1b[5nd\x1b[6ne\x1b[?6n");
        assert_eq!(kept, b"abcde");
        assert_eq!(
            queries,
            vec![
                (1, Query::PrimaryAttributes),
                (2, Query::SecondaryAttributes),
                (3, Query::DeviceStatus),
                (4, Query::CursorPosition),
                (5, Query::ExtendedCursorPosition),
            ]
        );
    }

    #[test]
    fn a_query_split_across_reads_is_found() {
        let mut s = QueryScanner::default();
        let (kept, queries) = scan_all(&mut s, b"xy\x1b[");
        assert_eq!(kept, b"xy");
        assert!(queries.is_empty());
        let (kept, queries) = scan_all(&mut s, b"6nz");
        assert_eq!(kept, b"z");
        assert_eq!(queries, vec![(0, Query::CursorPosition)]);
    }

    #[test]
    fn held_back_bytes_that_are_not_a_query_come_out_next_read() {
        let mut s = QueryScanner::default();
        let (kept, _) = scan_all(&mut s, b"\x1b[6");
        assert!(kept.is_empty());
        let (kept, queries) = scan_all(&mut s, b"8m");
        assert_eq!(kept, b"\x1b[68m");
        assert!(queries.is_empty());
    }

    #[test]
    fn answers_use_one_based_cursor() {
        assert_eq!(Query::CursorPosition.answer((4, 9)), b"\x1b[5;10R");
    }
}
