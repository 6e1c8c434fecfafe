//! End-to-end tests: the real `symp` binary, real ptys, a private SYMP_HOME each.

mod harness;
mod procfs;

mod attach;
mod attach_fallbacks;
mod bad_input;
mod blocked_input;
mod client_loss;
mod detach_key;
mod events;
mod frozen_viewer;
mod full_screen;
mod input_modes;
mod lifecycle;
mod logs;
mod lost_sessions;
mod no_orphans;
mod packed_screens;
mod parser_lag;
mod peer_uid;
mod queries;
mod screen_size;
mod scripting;
mod scrollback;
mod server_process;
mod sharing;
mod skimmed_floods;
mod socket_robustness;
mod terminal_handover;
mod wire;
