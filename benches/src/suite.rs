//! The whole run: every measurement as a job, repeated and interleaved contender by
//! contender (the order rotates each repetition), with failures kept, not fatal.

use anyhow::Result;

use crate::env::Env;
use crate::scenarios::echo_latency::Neighbour;
use crate::scenarios::memory::MemoryCase;
use crate::scenarios::throughput::Viewers;
use crate::scenarios::{attach_time, echo_latency, memory, throughput, Sample};
use crate::tools::Contender;
use crate::workloads::Workload;

type RunFn<'a> = Box<dyn Fn(&Env, Contender) -> Result<Vec<Sample>> + 'a>;

/// One measurement, runnable for any contender.
pub struct Job<'a> {
    pub name: String,
    run: RunFn<'a>,
}

/// Every sample and every failure of a run.
#[derive(Default)]
pub struct Results {
    pub samples: Vec<(Contender, Sample)>,
    pub failures: Vec<String>,
}

/// The measurements of the plan, in the order they run and are reported;
/// `only` keeps those whose name contains it.
pub fn jobs<'a>(env: &'a Env, only: Option<&str>) -> Vec<Job<'a>> {
    let mut jobs: Vec<Job<'a>> = Vec::new();
    let viewer_cases = [
        Viewers::Detached,
        Viewers::Drained(1),
        Viewers::Drained(env.plan.many_viewers),
        Viewers::DrainedAndFrozen,
    ];
    for workload in Workload::ALL {
        for viewers in viewer_cases {
            jobs.push(Job {
                name: format!("{} · {}", env.files.label(workload), viewers.label()),
                run: Box::new(move |env, who| throughput::run(env, who, workload, viewers)),
            });
        }
    }
    for neighbour in [Neighbour::Quiet, Neighbour::Flooding] {
        jobs.push(Job {
            name: neighbour.label().into(),
            run: Box::new(move |env, who| echo_latency::run(env, who, neighbour)),
        });
    }
    for with_history in [false, true] {
        jobs.push(Job {
            name: if with_history {
                "attach with scrollback".into()
            } else {
                "attach plain".into()
            },
            run: Box::new(move |env, who| attach_time::run(env, who, with_history)),
        });
    }
    let mut memory_cases = vec![
        MemoryCase::Idle(1),
        MemoryCase::AfterOutput,
        MemoryCase::IdleAfterOutput,
    ];
    memory_cases.extend(
        env.plan
            .idle_session_counts
            .iter()
            .filter(|&&n| n > 1)
            .map(|&n| MemoryCase::Idle(n)),
    );
    for case in memory_cases {
        jobs.push(Job {
            name: case.label(env),
            run: Box::new(move |env, who| memory::run(env, who, case)),
        });
    }
    if let Some(text) = only {
        jobs.retain(|job| job.name.contains(text));
    }
    jobs
}

pub fn run_all(env: &Env, jobs: &[Job<'_>]) -> Results {
    let contenders = env.contenders();
    let mut results = Results::default();
    for rep in 0..env.plan.reps {
        for job in jobs {
            // Rotate who goes first so no contender always runs on a cold or warm machine.
            let mut order = contenders.clone();
            order.rotate_left(rep % contenders.len());
            for who in order {
                match (job.run)(env, who) {
                    Ok(samples) => {
                        if !samples.is_empty() {
                            eprintln!(
                                "[{}/{}] {who:>8}: {}",
                                rep + 1,
                                env.plan.reps,
                                describe(&samples)
                            );
                        }
                        results
                            .samples
                            .extend(samples.into_iter().map(|s| (who, s)));
                    }
                    Err(err) => {
                        let failure = format!("{} · {who} (run {}): {err:#}", job.name, rep + 1);
                        eprintln!("[{}/{}] FAILED {failure}", rep + 1, env.plan.reps);
                        results.failures.push(failure);
                    }
                }
            }
        }
    }
    results
}

fn describe(samples: &[Sample]) -> String {
    samples
        .iter()
        .map(|s| {
            format!(
                "{} = {}",
                s.row,
                crate::report::format_value(s.unit, s.value)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
