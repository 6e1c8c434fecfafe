//! Whether an attached client still holds its terminal: whether the
//! terminal's foreground process group is still the client's, read from the
//! client's `/proc/PID/stat`.
//!
//! Why: a client stopped by SIGSTOP (which it cannot catch, unlike the
//! SIGTSTP it answers by detaching) leaves its shell in the foreground, and a
//! server reading that terminal would take the keys typed to the shell and
//! draw over it. The server cannot ask the terminal itself: `tcgetpgrp`
//! answers only a process whose controlling terminal it is. Reading the stat
//! file costs about 3.5 µs, so an answer is kept for a few milliseconds: a
//! key and its echo ask once between them.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// How long an answer is trusted.
const FRESH_FOR: Duration = Duration::from_millis(5);

pub struct Holder {
    /// The client's `/proc/PID/stat`, kept open: one `pread` per question.
    stat: File,
    /// The client's process group.
    group: i32,
    /// The terminal, as `st_rdev` encodes it.
    device: u64,
    last: Mutex<Option<(Instant, bool)>>,
}

/// What the start of a `/proc/PID/stat` says, from the state on.
struct Stat {
    group: i32,
    /// The device of the controlling terminal, as `st_rdev` encodes it.
    terminal: u64,
    /// The terminal's foreground process group (-1: none).
    foreground: i32,
}

impl Holder {
    /// Watches client `pid`, if it holds `terminal` now: it is its controlling
    /// terminal and the client is in its foreground. Otherwise (a client with
    /// no controlling terminal, another terminal, no /proc) `None`: nothing
    /// to watch, and the attach goes on unguarded, as before.
    pub fn of(pid: Option<i32>, terminal: &OwnedFd) -> Option<Self> {
        let stat = File::open(format!("/proc/{}/stat", pid?)).ok()?;
        let now = read(&stat)?;
        let device = nix::sys::stat::fstat(terminal.as_fd()).ok()?.st_rdev;
        (now.terminal == device && now.foreground == now.group).then(|| Self {
            stat,
            group: now.group,
            device,
            last: Mutex::new(None),
        })
    }

    /// Whether the client still holds its terminal. When in doubt (the client
    /// gone, its stat unreadable), yes: its going is noticed elsewhere.
    pub fn holds(&self) -> bool {
        let now = Instant::now();
        if let Some((at, held)) = *lock(&self.last) {
            if now.duration_since(at) < FRESH_FOR {
                return held;
            }
        }
        self.holds_now_at(now)
    }

    /// `holds`, asked afresh (for the keys: a stale yes would take the shell's).
    pub fn holds_now(&self) -> bool {
        self.holds_now_at(Instant::now())
    }

    fn holds_now_at(&self, now: Instant) -> bool {
        // Away only while the terminal is still the client's controlling
        // terminal and another group is in front: after a hangup (no
        // controlling terminal any more) reading and writing find the end.
        let held = read(&self.stat).is_none_or(|stat| {
            stat.terminal != self.device || stat.foreground <= 0 || stat.foreground == self.group
        });
        *lock(&self.last) = Some((now, held));
        held
    }
}

fn read(stat: &File) -> Option<Stat> {
    let mut buf = [0u8; 512];
    let len = stat.read_at(&mut buf, 0).ok()?;
    parse(&buf[..len])
}

/// Fields 5, 7 and 8 of proc(5)'s stat: after the command in parentheses
/// (which may hold anything, parentheses too), state, ppid, pgrp, session,
/// tty_nr, tpgid.
fn parse(stat: &[u8]) -> Option<Stat> {
    let after_command = stat.iter().rposition(|&b| b == b')')? + 1;
    let rest = std::str::from_utf8(&stat[after_command..]).ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().take(6).collect();
    let [_state, _ppid, group, _session, terminal, foreground] = fields.as_slice() else {
        return None;
    };
    Some(Stat {
        group: group.parse().ok()?,
        terminal: terminal.parse().ok()?,
        foreground: foreground.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_group_and_terminal_past_a_command_with_parentheses() {
        let stat = parse(b"4242 (a (b) c) S 1 4242 4200 34816 4242 4194304 0 0").expect("parsed");
        assert_eq!(stat.group, 4242);
        assert_eq!(stat.terminal, 34816);
        assert_eq!(stat.foreground, 4242);
        let stopped = parse(b"4242 (symp) T 1 4242 4200 34816 4200 0").expect("parsed");
        assert_ne!(stopped.foreground, stopped.group);
        assert!(parse(b"4242 (symp) S 1").is_none());
    }
}
