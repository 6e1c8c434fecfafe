//! A flood far ahead of the parser is skimmed (its departing rows counted, not
//! formatted) and the rows history keeps are formatted afterwards: capture and
//! attach must show the same scrollback as if every row had been formatted.

use crate::harness::{wait_until, Home, Term};

/// Numbered lines, each with its own colour: a file `cat` writes far faster
/// than the screen is parsed.
const LINES: usize = 300_000;

fn flood_file(home: &Home) -> std::path::PathBuf {
    let mut text = String::with_capacity(LINES * 30);
    for i in 1..=LINES {
        text.push_str(&format!("\x1b[38;5;123mline {i}\x1b[m\n"));
    }
    let path = home.path().join("flood.txt");
    std::fs::write(&path, text).expect("write the flood");
    path
}

#[test]
fn a_skimmed_flood_keeps_exactly_its_last_lines() {
    let home = Home::new();
    let file = flood_file(&home);
    let script = format!("cat '{}'; echo done; exec sleep 1000", file.display());
    // Debug logging says when a skimmed flood's history was formatted.
    let spawned = home
        .command(&[
            "spawn", "--name", "flood", "--size", "80x24", "--", "bash", "-c", &script,
        ])
        .env("SYMP_LOG", "symp_server=debug,info")
        .output()
        .expect("spawn");
    assert!(spawned.status.success(), "{spawned:?}");
    home.wait_screen("flood", "done");

    let log = home.path().join("server.log");
    wait_until("the flood to be skimmed", || {
        std::fs::read_to_string(&log)
            .is_ok_and(|log| log.contains("history of a skimmed flood formatted"))
    });

    // The default history is 10,000 lines, each exactly the line before the
    // next, up to the screen's first row.
    let captured: serde_json::Value =
        serde_json::from_str(&home.ok(&["capture", "flood", "--all", "--json"])).expect("json");
    let text = |v: &serde_json::Value| v.as_str().expect("a line").trim_end().to_owned();
    let history: Vec<String> = captured["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(text)
        .collect();
    let rows: Vec<String> = captured["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(text)
        .collect();
    let done_row = rows
        .iter()
        .position(|r| r == "done")
        .expect("done on the screen");
    let first = LINES - (10_000 + done_row) + 1;
    let expected: Vec<String> = (first..=LINES)
        .map(|i| format!("line {i}"))
        .chain(["done".to_owned()])
        .collect();
    assert_eq!(history.len(), 10_000, "first: {:?}", history.first());
    let everything: Vec<String> = history
        .into_iter()
        .chain(rows[..=done_row].iter().cloned())
        .collect();
    assert_same_lines(&everything, &expected);

    let coloured = home.ok(&["capture", "flood", "--scrollback", "1", "--ansi"]);
    assert!(
        coloured.contains(&format!("\x1b[38;5;123mline {}", first + 9_999)),
        "history keeps colours: {coloured:?}"
    );

    // An attach replays the same lines into the terminal's own scrollback.
    let mut term = Term::symp(&home, &["attach", "flood"], 80, 24);
    term.wait_for_text("done");
    let scrolled: Vec<String> = term
        .scrollback_lines()
        .into_iter()
        .chain(term.text().lines().map(str::to_owned))
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(scrolled.len() >= 900, "only {} lines", scrolled.len());
    assert_same_lines(&scrolled, &expected[expected.len() - scrolled.len()..]);
    term.type_bytes(b"\x1c");
    term.wait_for_text("[detached from flood]");
    assert_eq!(term.wait_exit(), 0);
}

/// Equal line lists, or a failure naming the first line that differs (the lists
/// are too long to print whole).
fn assert_same_lines(got: &[String], expected: &[String]) {
    if let Some(at) = (0..got.len().max(expected.len())).find(|&i| got.get(i) != expected.get(i)) {
        let around =
            |lines: &[String]| lines[at.saturating_sub(2)..(at + 3).min(lines.len())].to_vec();
        panic!(
            "line {at} of {} differs: got {:?}, expected {:?}",
            got.len(),
            around(got),
            around(expected)
        );
    }
}
