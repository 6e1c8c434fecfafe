//! Terminal queries a program sends get exactly one answer, whether nobody, one
//! client or two interactive clients watch, and the cursor report is right.

use crate::harness::{python, script, wait_until, Home, Term};

/// Asks each query once, reading its reply byte by byte up to its final character,
/// then listens 500 ms for anything more (a second answer). Writes what it got as JSON.
const ASKER: &str = r#"
import json, os, select, sys, time, tty
result_file, wait_for_key = sys.argv[1], sys.argv[2] == "key"
tty.setraw(0)
os.write(1, b"ready\r\n")
if wait_for_key:
    os.read(0, 1)

def read_until(final, limit):
    got, deadline = b"", time.time() + limit
    while not got.endswith(final):
        left = deadline - time.time()
        if left <= 0 or not select.select([0], [], [], left)[0]:
            break
        got += os.read(0, 1)
    return got.decode("latin-1")

replies = []
os.write(1, b"\x1b[5;10H")
for query, final in [(b"\x1b[6n", b"R"), (b"\x1b[c", b"c"), (b"\x1b[>c", b"c"), (b"\x1b[5n", b"n")]:
    os.write(1, query)
    replies.append(read_until(final, 5))
os.write(1, b"abc\x1b[6n")
replies.append(read_until(b"R", 5))
extra = read_until(b"\x00never", 0.5)
with open(result_file + ".tmp", "w") as f:
    json.dump({"replies": replies, "extra": extra}, f)
os.rename(result_file + ".tmp", result_file)
os.write(1, b"\r\nqueries done\r\n")
time.sleep(1000)
"#;

fn spawn_asker(home: &Home, when: &str) -> std::path::PathBuf {
    let asker = script(home, "asker.py", ASKER);
    let result = home.path().join("replies.json");
    home.spawn(
        "asker",
        &[
            python(),
            asker.to_str().expect("utf8"),
            result.to_str().expect("utf8"),
            when,
        ],
    );
    result
}

fn check_replies(result: &std::path::Path) {
    wait_until("the program to finish asking", || result.exists());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(result).expect("result")).expect("json");
    let replies: Vec<&str> = json["replies"]
        .as_array()
        .expect("replies")
        .iter()
        .map(|r| r.as_str().expect("text"))
        .collect();
    assert_eq!(replies.len(), 5);
    assert_eq!(
        replies[0], "\x1b[5;10R",
        "cursor position report: {replies:?}"
    );
    assert!(
        replies[1].starts_with("\x1b[?") && replies[1].ends_with('c'),
        "primary device attributes: {replies:?}"
    );
    assert!(
        replies[2].starts_with("\x1b[>") && replies[2].ends_with('c'),
        "secondary device attributes: {replies:?}"
    );
    assert_eq!(replies[3], "\x1b[0n", "device status: {replies:?}");
    assert_eq!(replies[4], "\x1b[5;13R", "cursor after text: {replies:?}");
    assert_eq!(json["extra"], "", "a second answer arrived");
}

#[test]
fn queries_get_exactly_one_answer_with_no_client_attached() {
    let home = Home::new();
    let result = spawn_asker(&home, "now");
    check_replies(&result);
    assert_eq!(home.session("asker")["clients"], 0);
}

#[test]
fn queries_get_exactly_one_answer_with_one_client_attached() {
    let home = Home::new();
    let result = spawn_asker(&home, "key");
    let mut term = Term::symp(&home, &["attach", "asker"], 80, 24);
    term.wait_for_text("ready");
    term.type_str("g");
    check_replies(&result);
    term.wait_for_text("queries done");
}

#[test]
fn queries_get_exactly_one_answer_with_two_interactive_clients_attached() {
    let home = Home::new();
    let result = spawn_asker(&home, "key");
    let first = Term::symp(&home, &["attach", "asker"], 80, 24);
    first.wait_for_text("ready");
    let mut second = Term::symp(&home, &["attach", "asker"], 80, 24);
    second.wait_for_text("ready");
    home.wait_clients("asker", 2);
    second.type_str("g");
    check_replies(&result);
    first.wait_for_text("queries done");
    second.wait_for_text("queries done");
}
