//! The symp server: keeps programs alive in ptys, remembers their screens, and
//! serves any number of clients over a Unix socket. See ARCHITECTURE.md.

mod activity;
mod attach;
mod clients;
pub mod config;
mod connection;
pub mod daemon;
pub mod events;
pub mod history;
pub mod keys;
mod login_env;
pub mod output_log;
mod packed_screen;
pub mod paths;
pub mod procs;
mod pty;
mod pty_fd;
mod pump;
pub mod queries;
mod read_buffer;
mod reaper;
mod reclaim;
pub mod registry;
pub mod render;
mod reply_queue;
pub mod scripting;
pub mod session;
pub mod shadow;
mod shadow_parser;
pub mod socket;
mod split_char;
mod stream_end;
mod sync;
pub mod transcript;

// For an attach client that draws itself (a server or terminal that cannot take
// the handover): the same detach key and reply recognition as the server's.
pub use attach::detach_key::{DetachFilter, DetachKey, KeyAction, DOUBLE_PRESS_WINDOW_MS};
pub use attach::replies::is_terminal_reply;
pub use daemon::{run, AlreadyRunning};
pub use paths::Paths;
