//! The `symp` binary: parses the command line and hands off to a command.

mod attach;
mod cli;
mod commands;
mod connect;
mod json;
mod list_view;
mod logs;
mod output;
mod plain_text;
mod script_commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return cli::report_usage_error(err),
    };
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) if err.chain().any(|cause| cause.is::<output::StdoutClosed>()) => {
            ExitCode::SUCCESS
        }
        Err(err) => {
            let message = format!("{err:#}").replace('\n', " ");
            eprintln!("symp: {message}");
            ExitCode::from(1)
        }
    }
}
