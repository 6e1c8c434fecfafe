//! What /proc says about processes: alive or zombie, session members, servers, memory.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The state letter of /proc/PID/stat (`R`, `S`, `Z`, ...), or `None` if it is gone.
pub fn state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Running or sleeping: present and not a zombie.
pub fn alive(pid: i32) -> bool {
    state(pid).is_some_and(|s| s != 'Z' && s != 'X')
}

/// Waits up to `limit` for every pid to be gone or a zombie; returns the survivors.
pub fn survivors_after(pids: &[i32], limit: Duration) -> Vec<i32> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// Field `n` (numbered as in proc(5)) of /proc/PID/stat, from the state (3) on.
pub fn stat_field(pid: i32, n: usize) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(n - 3)?
        .parse()
        .ok()
}

/// Field 6 of /proc/PID/stat: the session id.
fn session_of(pid: i32) -> Option<i32> {
    stat_field(pid, 6)
}

/// Field 4 of /proc/PID/stat: the parent's pid.
pub fn parent_of(pid: i32) -> Option<i32> {
    stat_field(pid, 4)
}

/// Live processes in session `sid` (a session's program leads its own session).
pub fn session_members(sid: i32) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|&p| session_of(p) == Some(sid) && alive(p))
        .collect()
}

pub fn cmdline(pid: i32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn has_env(pid: i32, key: &str, value: &Path) -> bool {
    let wanted = format!("{key}={}", value.display());
    std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .any(|entry| entry == wanted.as_bytes())
}

/// Live `symp server start --foreground` processes serving this SYMP_HOME.
pub fn servers_for(home: &Path) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|&p| {
            let args = cmdline(p);
            args.len() >= 4
                && args[0].ends_with("symp")
                && args[1..4] == ["server", "start", "--foreground"]
                && alive(p)
                && has_env(p, "SYMP_HOME", home)
        })
        .collect()
}

/// Resident memory in KiB (VmRSS).
pub fn rss_kib(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn signal(pid: i32, sig: Signal) {
    kill(Pid::from_raw(pid), sig).unwrap_or_else(|e| panic!("kill -{sig} {pid}: {e}"));
}

/// Field 22 of /proc/PID/stat: when the process started, which exec leaves alone.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// Kills, when dropped, whichever of these processes still runs (the same process,
/// not a reuse of its pid): for programs a test deliberately orphans, so a failing
/// test leaves nothing behind.
pub struct KillOnDrop(Vec<(i32, Option<u64>)>);

impl KillOnDrop {
    pub fn new(pids: &[i32]) -> Self {
        Self(pids.iter().map(|&p| (p, start_time(p))).collect())
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &(pid, started) in &self.0 {
            if alive(pid) && start_time(pid) == started {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}
