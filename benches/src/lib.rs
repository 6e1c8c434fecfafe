//! symp side by side with tmux and a bare pty: the workload generators the
//! criterion bench (and, later, the harness) share.

pub mod plan;
pub mod workloads;
