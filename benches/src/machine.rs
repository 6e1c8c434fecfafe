//! What the numbers were measured on: cores, CPU, kernel and tool versions.

use std::process::Command;

/// A few Markdown bullet lines describing this machine and the tools measured.
pub fn describe(symp_exe: &std::path::Path, tmux: Option<&std::path::Path>) -> String {
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
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "- cores (nproc): {cores}\n- CPU: {cpu}\n- kernel: {kernel}\n- {tmux}\n- {symp} ({})\n- {rustc}\n- load average at start: {}\n",
        symp_exe.display(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
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
