//! Finding and signalling every process of a session's program, so nothing it
//! started outlives `kill`, `rm` or `server stop`.

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// Every live process whose session id is `sid` (the program is its session leader).
/// Reads /proc; elsewhere only the leader's process group is found.
pub fn session_members(sid: u32) -> Vec<Pid> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| process_session(*pid) == Some(sid as i32))
        .map(Pid::from_raw)
        .collect()
}

/// Field 6 of /proc/PID/stat, read after the `)` that ends the command name.
fn process_session(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(3)?.parse().ok()
}

/// Sends `signal` to the program's process group and to every other process in its session.
pub fn signal_session(sid: u32, signal: Signal) {
    let leader = Pid::from_raw(sid as i32);
    let _ = killpg(leader, signal);
    for pid in session_members(sid) {
        let _ = kill(pid, signal);
    }
}

/// Parses `HUP`, `SIGTERM`, `term` or `9`.
pub fn parse_signal(text: &str) -> Option<Signal> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).ok();
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_and_numbers_parse() {
        assert_eq!(parse_signal("HUP"), Some(Signal::SIGHUP));
        assert_eq!(parse_signal("sigterm"), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Some(Signal::SIGKILL));
        assert_eq!(parse_signal("NOPE"), None);
    }

    #[test]
    fn our_own_session_includes_us() {
        let me = std::process::id() as i32;
        let sid = process_session(me).expect("own stat");
        assert!(session_members(sid as u32).contains(&Pid::from_raw(me)));
    }
}
