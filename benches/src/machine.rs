//! What the numbers were measured on: cores, CPU, kernel and tool versions.

use std::process::Command;

/// The 1, 5 and 15 minute load averages: on a shared machine, how busy it was.
pub fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A few Markdown bullet lines describing this machine and the tools measured;
/// `load_before` is the load average read before the run.
pub fn describe(
    symp_exe: &std::path::Path,
    tmux: Option<&std::path::Path>,
    load_before: &str,
) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = first_line("uname", &["-r"]);
    let tmux = tmux.map_or("not measured".into(), |exe| {
        first_line(&exe.to_string_lossy(), &["-V"])
    });
    let symp = first_line(&symp_exe.to_string_lossy(), &["--version"]);
    let rustc = first_line("rustc", &["-V"]);
    format!(
        "- cores (nproc): {cores}\n- CPU: {cpu}\n- kernel: {kernel}\n- {tmux}\n- {symp} ({})\n- {rustc}\n- load average (1/5/15 min) before the run: {load_before}; after: {}\n",
        symp_exe.display(),
        load_average()
    )
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("{program}: unavailable"))
}
