//! End-to-end tests: the real `symp` binary, real ptys, a private SYMP_HOME each.

mod harness;
mod procfs;

mod attach;
mod lifecycle;
mod no_orphans;
mod lost_sessions;
mod server_process;
mod scrollback;
mod full_screen;
mod input_modes;
mod detach_key;
