//! `symp-benches`: measures symp next to tmux and a bare pty and prints the table.
//! Run it as `cargo run --release -p symp-benches -- --vs tmux` (see BENCHMARKS.md).

use anyhow::Result;
use clap::Parser;
use symp_benches::cli::{Options, Rival};
use symp_benches::env::Env;
use symp_benches::plan::Plan;
use symp_benches::tools::tmux::find_tmux;
use symp_benches::workload_files::WorkloadFiles;
use symp_benches::{machine, report, suite, symp_binary};

fn main() -> Result<()> {
    let options = Options::parse();
    let symp_exe = symp_binary::locate(options.symp)?;
    let tmux_exe = if options.vs.contains(&Rival::Tmux) {
        let found = find_tmux();
        if found.is_none() {
            eprintln!("note: tmux is not installed; measuring symp and the bare pty only");
        }
        found
    } else {
        None
    };
    let plan = Plan {
        neighbour: options.neighbour,
        ..if options.quick {
            Plan::quick()
        } else {
            Plan::full(options.reps.max(1))
        }
    };
    eprintln!("generating workloads...");
    let files = WorkloadFiles::generate(&plan)?;
    let env = Env {
        plan,
        files,
        symp_exe,
        tmux_exe,
    };
    let jobs = suite::jobs(&env, options.only.as_deref());
    let load_before = machine::load_average();
    let started = std::time::Instant::now();
    let results = suite::run_all(&env, &jobs);
    println!(
        "{}",
        machine::describe(&env.symp_exe, env.tmux_exe.as_deref(), &load_before)
    );
    println!(
        "{} repetition(s), {} mode{}, {:.0?} in all.\n",
        env.plan.reps,
        if options.quick { "quick" } else { "full" },
        if env.plan.neighbour {
            ", throughput beside an idle neighbour session"
        } else {
            ""
        },
        started.elapsed()
    );
    print!("{}", report::render(&results, &env.contenders()));
    Ok(())
}
