//! Every message that crosses the socket, in both directions.
//!
//! Append-only: new variants go at the end of their enum, new fields only with a
//! protocol version bump. `tests/golden.rs` pins the bytes of each variant.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub cols: u16,
    pub rows: u16,
}

/// What a session's program is doing, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Running,
    /// The program exited by itself with this code.
    Exited {
        code: i32,
    },
    /// The program was ended by this signal.
    Killed {
        signal: i32,
    },
    /// The server that ran it went away while it was running.
    Lost,
}

impl Status {
    pub fn is_running(self) -> bool {
        self == Status::Running
    }

    /// The shell-style exit status: the code, or 128 + signal.
    pub fn exit_code(self) -> Option<i32> {
        match self {
            Status::Exited { code } => Some(code),
            Status::Killed { signal } => Some(128 + signal),
            Status::Running | Status::Lost => None,
        }
    }
}

/// Everything needed to start a program in a new session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpawnRequest {
    /// `None` asks the server to make a short unique name.
    pub name: Option<String>,
    /// Program and arguments; never empty.
    pub command: Vec<String>,
    /// Absolute working directory.
    pub cwd: String,
    /// Extra environment entries on top of the client's environment.
    pub env: Vec<(String, String)>,
    pub size: Size,
    /// Lines of scrollback; `None` means the server default.
    pub scrollback: Option<usize>,
    pub label: Option<String>,
}

/// One row of `symp list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub name: String,
    pub status: Status,
    pub pid: Option<u32>,
    pub command: Vec<String>,
    pub cwd: String,
    pub label: Option<String>,
    pub clients: u32,
    pub read_only_clients: u32,
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
    pub last_output_ms: Option<u64>,
    pub last_attach_ms: Option<u64>,
    pub ended_ms: Option<u64>,
    pub size: Size,
    pub title: String,
    /// No output for the idle period.
    pub idle: bool,
}

/// What `capture` should include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HistoryRange {
    None,
    Lines(u32),
    All,
}

/// A condition `wait` blocks on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitFor {
    Exit,
    Idle { millis: u64 },
    Match { regex: String, scrollback: bool },
}

/// Client to server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// Always the first frame; variant 0 forever.
    Hello {
        version: u32,
    },
    Spawn(SpawnRequest),
    List {
        all: bool,
    },
    /// Turns this connection into a viewer stream.
    Attach {
        name: String,
        read_only: bool,
        size: Size,
    },
    /// Keys from an attached client's terminal.
    Input(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The attached client's terminal changed size.
    Resize(Size),
    Detach,
    Kill {
        name: String,
        signal: Option<i32>,
    },
    Remove {
        names: Vec<String>,
        exited: bool,
    },
    ServerStatus,
    ServerStop,
    /// Bytes the attached client's terminal sent in reply to a query the program
    /// made; only the input owner's replies reach the program.
    TerminalReply(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Write bytes to the program as if typed (the client has encoded keys).
    Send {
        name: String,
        data: Vec<SendPart>,
    },
    Capture {
        name: String,
        ansi: bool,
        history: HistoryRange,
    },
    Wait {
        name: String,
        until: WaitFor,
        timeout_ms: Option<u64>,
    },
    Events {
        name: Option<String>,
    },
    /// Turns this connection into a viewer of `name` that the server draws straight
    /// into the client's terminal and whose keys it reads from there: the frame
    /// carries two fds (SCM_RIGHTS), the terminal opened again for reading keys and
    /// for writing output. Keys and echoes then skip the client process. The
    /// connection carries the rest: resizes and `Detach` one way; `Attached`,
    /// then `Detached`, `Exited` or `Error` the other, each sent only once the
    /// server has stopped writing to the terminal.
    AttachTerminal {
        name: String,
        read_only: bool,
        size: Size,
        /// `C-\`, `^A`, ...; `None` is the default key. The server recognises it.
        detach_key: Option<String>,
    },
}

/// One piece of a `send`: literal text, a named key, a paste or a pause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendPart {
    Text(String),
    Key(String),
    Paste(String),
    /// Wait this long before the next part, so an agent sees a separate write.
    Settle {
        millis: u64,
    },
}

/// The screen as `capture` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    /// Scrollback lines first (oldest first), then the visible rows.
    pub history: Vec<String>,
    pub rows: Vec<String>,
    pub cursor: (u16, u16),
    pub cursor_visible: bool,
    pub size: Size,
    pub title: String,
    pub alternate_screen: bool,
    pub status: Status,
}

/// Server to client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMsg {
    Welcome {
        version: u32,
        server_pid: u32,
    },
    /// A one-line reason; the connection ends after it.
    Error {
        message: String,
    },
    Spawned {
        name: String,
        pid: u32,
    },
    Sessions(Vec<SessionInfo>),
    /// Bytes that redraw the whole picture for this client; replaces what it shows.
    Snapshot(Bytes),
    /// Program output, raw or rendered for this client's size.
    Output(Bytes),
    /// The program ended; the stream is over.
    Exited {
        status: Status,
    },
    /// A request without a payload succeeded.
    Done,
    ServerInfo {
        pid: u32,
        version: String,
        sessions: u32,
        running: u32,
    },
    Captured(Capture),
    /// `wait` finished: true if the condition held, false on timeout.
    Waited {
        met: bool,
        status: Status,
    },
    /// One event, as a JSON object.
    Event(String),
    Removed {
        names: Vec<String>,
    },
    /// `AttachTerminal` was accepted: the server draws into the terminal from now on.
    Attached,
    /// The detach key was pressed, the client asked to detach, or the terminal
    /// hung up; the server has stopped writing to the terminal and closed its fds.
    Detached,
}
