//! symp side by side with tmux and a bare pty: the pieces of the benchmark harness
//! (`src/main.rs`) and the workload generators the criterion bench shares.

pub mod cli;
pub mod drained_pty;
pub mod env;
pub mod frozen_pty;
pub mod go_signal;
pub mod machine;
pub mod mirror_pty;
pub mod output_watch;
pub mod plan;
pub mod process;
pub mod report;
pub mod scenarios;
pub mod stats;
pub mod suite;
pub mod symp_binary;
pub mod tools;
pub mod wait;
pub mod workload_files;
pub mod workloads;
