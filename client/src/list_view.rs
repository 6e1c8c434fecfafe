//! `symp list` as a table for people.

use std::fmt::Write as _;

use nix::sys::signal::Signal;
use symp_protocol::{SessionInfo, Status};

pub fn render(sessions: &[SessionInfo], now_ms: u64) -> String {
    let header = [
        "NAME", "STATUS", "PID", "CLIENTS", "AGE", "ACTIVITY", "CWD", "COMMAND",
    ];
    let rows: Vec<[String; 8]> = sessions
        .iter()
        .map(|s| {
            [
                s.name.clone(),
                status_text(s.status),
                s.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                clients_text(s),
                ago(now_ms.saturating_sub(s.created_ms)),
                activity_text(s, now_ms),
                s.cwd.clone(),
                command_text(s),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                let _ = writeln!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell:<width$}  ", width = widths[i]);
            }
        }
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

pub fn status_text(status: Status) -> String {
    match status {
        Status::Running => "running".into(),
        Status::Exited { code } => format!("exited({code})"),
        Status::Killed { signal } => match Signal::try_from(signal) {
            Ok(sig) => format!("killed({})", sig.as_str().trim_start_matches("SIG")),
            Err(_) => format!("killed({signal})"),
        },
        Status::Lost => "lost".into(),
    }
}

fn clients_text(s: &SessionInfo) -> String {
    match s.read_only_clients {
        0 => s.clients.to_string(),
        ro => format!("{} ({ro} ro)", s.clients),
    }
}

fn activity_text(s: &SessionInfo, now_ms: u64) -> String {
    if !s.status.is_running() {
        return "-".into();
    }
    let state = if s.idle { "idle" } else { "busy" };
    match s.last_output_ms {
        Some(t) => format!("{state} {}", ago(now_ms.saturating_sub(t))),
        None => state.into(),
    }
}

fn command_text(s: &SessionInfo) -> String {
    let command = s.command.join(" ");
    let mut text = match &s.label {
        Some(label) => format!("{command} [{label}]"),
        None => command,
    };
    if !s.title.is_empty() {
        let _ = write!(text, " \u{2014} {}", s.title);
    }
    text
}

/// `5s`, `3m`, `2h`, `4d`.
pub fn ago(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(ago(5_000), "5s");
        assert_eq!(ago(180_000), "3m");
        assert_eq!(ago(7_200_000), "2h");
    }

    #[test]
    fn statuses_read_naturally() {
        assert_eq!(status_text(Status::Exited { code: 3 }), "exited(3)");
        assert_eq!(status_text(Status::Killed { signal: 15 }), "killed(TERM)");
    }
}
