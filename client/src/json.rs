//! The stable JSON shapes scripts and editors read (documented in docs/scripting.md).

use serde::Serialize;
use symp_protocol::{SessionInfo, Status};

/// One session in `symp list --json`.
#[derive(Serialize)]
pub struct SessionJson<'a> {
    pub name: &'a str,
    /// `running`, `exited`, `killed` or `lost`.
    pub status: &'static str,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub pid: Option<u32>,
    pub command: &'a [String],
    pub cwd: &'a str,
    pub label: Option<&'a str>,
    pub title: &'a str,
    /// `busy` or `idle` while running, `null` after.
    pub activity: Option<&'static str>,
    pub clients: u32,
    pub read_only_clients: u32,
    pub cols: u16,
    pub rows: u16,
    pub created_ms: u64,
    pub last_output_ms: Option<u64>,
    pub last_attach_ms: Option<u64>,
    pub ended_ms: Option<u64>,
}

pub use symp_server::session::status_word;

impl<'a> From<&'a SessionInfo> for SessionJson<'a> {
    fn from(s: &'a SessionInfo) -> Self {
        let (exit_code, signal) = match s.status {
            Status::Exited { code } => (Some(code), None),
            Status::Killed { signal } => (None, Some(signal)),
            _ => (None, None),
        };
        SessionJson {
            name: &s.name,
            status: status_word(s.status),
            exit_code,
            signal,
            pid: s.pid,
            command: &s.command,
            cwd: &s.cwd,
            label: s.label.as_deref(),
            title: &s.title,
            activity: s
                .status
                .is_running()
                .then_some(if s.idle { "idle" } else { "busy" }),
            clients: s.clients,
            read_only_clients: s.read_only_clients,
            cols: s.size.cols,
            rows: s.size.rows,
            created_ms: s.created_ms,
            last_output_ms: s.last_output_ms,
            last_attach_ms: s.last_attach_ms,
            ended_ms: s.ended_ms,
        }
    }
}
