//! Attaching replays what scrolled by while nobody watched into the terminal's own
//! scrollback, so a person can scroll up to it.

use crate::harness::{Home, Term};

#[test]
fn attaching_replays_earlier_lines_into_the_terminals_scrollback() {
    let home = Home::new();
    home.spawn(
        "chatty",
        &["bash", "-c", "seq -f 'line-%g' 1 200; exec sleep 1000"],
    );
    // Only attach once the server's screen has all of it: this is replay, not live output.
    home.wait_screen("chatty", "line-200");

    let term = Term::symp(&home, &["attach", "chatty"], 80, 24);
    term.wait_for_text("line-200");
    let scrolled: Vec<String> = term
        .scrollback_lines()
        .into_iter()
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let visible: Vec<String> = term
        .text()
        .lines()
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        scrolled.len() >= 150,
        "only {} lines in the terminal's scrollback",
        scrolled.len()
    );
    // Every line exactly once, in order, across scrollback and screen.
    let everything: Vec<String> = scrolled.into_iter().chain(visible).collect();
    let expected: Vec<String> = (1..=200).map(|i| format!("line-{i}")).collect();
    assert_eq!(everything, expected);
}
