//! The contenders: a bare pty (the physical limit), symp and tmux, and what the
//! scenarios need from a terminal multiplexer.

pub mod symp;
pub mod tmux;

use std::fmt;

use anyhow::Result;
use portable_pty::CommandBuilder;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contender {
    /// The workload alone in a pty whose master is drained flat out.
    Bare,
    Symp,
    Tmux,
}

impl fmt::Display for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Contender::Bare => "bare pty",
            Contender::Symp => "symp",
            Contender::Tmux => "tmux",
        })
    }
}

/// A running multiplexer server with a private socket. Dropping it stops the
/// server and every session in it.
pub trait Multiplexer {
    /// Starts `sh -c SCRIPT` detached as session NAME, 120x40, 10,000 lines of
    /// scrollback; returns once the program runs.
    fn spawn_session(&self, name: &str, script: &str) -> Result<()>;
    /// The command that attaches a client to session NAME (run it in a pty).
    fn attach_command(&self, name: &str) -> CommandBuilder;
    /// The text session NAME's screen shows now.
    fn screen_text(&self, name: &str) -> Result<String>;
    /// Clients attached to session NAME.
    fn client_count(&self, name: &str) -> Result<usize>;
    /// The server process, whose memory we read.
    fn server_pid(&self) -> Result<u32>;
}

/// Quotes a word for `sh`.
pub fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
