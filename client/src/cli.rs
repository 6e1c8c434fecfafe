//! The command line: every subcommand and option, as clap derives them.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "symp",
    version,
    about = "Keep AI agent CLIs alive in the background; attach from any terminal."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Spawn a session, then attach to it.
    New {
        name: String,
        #[command(flatten)]
        spawn: SpawnArgs,
        #[arg(long, value_name = "KEY")]
        detach_key: Option<String>,
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Start a program in a new session and print its name.
    Spawn {
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        spawn: SpawnArgs,
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// List sessions.
    #[command(alias = "ls")]
    List {
        #[arg(long)]
        json: bool,
        /// Include sessions that have ended.
        #[arg(long)]
        all: bool,
    },
    /// Attach this terminal to a session; the detach key (Ctrl-\) leaves it running.
    Attach {
        name: String,
        /// Watch only: keys other than the detach key are ignored.
        #[arg(long)]
        read_only: bool,
        /// Detach key, like `C-\` (the default), `C-]` or `^A`.
        #[arg(long, value_name = "KEY")]
        detach_key: Option<String>,
    },
    /// End a session's program (HUP, then TERM, then KILL).
    Kill {
        name: String,
        /// Send only this signal (name or number).
        #[arg(long, value_name = "SIG")]
        signal: Option<String>,
    },
    /// Forget ended sessions.
    Rm {
        #[arg(required_unless_present = "exited", conflicts_with = "exited")]
        names: Vec<String>,
        /// Remove every session that has ended.
        #[arg(long)]
        exited: bool,
    },
    /// Type text or named keys into a session.
    Send {
        name: String,
        /// Text to type as is.
        text: Option<String>,
        /// A named key (Enter, Escape, Tab, Backspace, Up, C-c, M-x, F1, ...); repeatable, sent after TEXT.
        #[arg(long = "key", value_name = "KEY")]
        keys: Vec<String>,
        /// Press Enter at the end, as a separate write after a settle delay, so an agent sees a submit.
        #[arg(long)]
        enter: bool,
        /// Send TEXT as a paste (bracketed if the program enabled it).
        #[arg(long)]
        paste: bool,
        /// Milliseconds between the text and the Enter of --enter.
        #[arg(long, value_name = "MS", default_value_t = 200)]
        settle: u64,
    },
    /// Print a session's screen.
    Capture {
        name: String,
        /// Keep colours and attributes (SGR sequences).
        #[arg(long)]
        ansi: bool,
        /// Include the last N lines of scrollback.
        #[arg(long, value_name = "N", conflicts_with = "all")]
        scrollback: Option<u32>,
        /// Include all scrollback.
        #[arg(long)]
        all: bool,
        /// Rows, cursor, size, title, screen and status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Block until a session exits, goes idle, or shows a pattern. Exit 124 on timeout.
    #[command(group = clap::ArgGroup::new("condition").required(true))]
    Wait {
        name: String,
        /// Until the program exits; prints its exit status.
        #[arg(long, group = "condition")]
        exit: bool,
        /// Until the screen has not changed for SECS.
        #[arg(long, value_name = "SECS", group = "condition")]
        idle: Option<f64>,
        /// Until the screen matches REGEX.
        #[arg(long = "match", value_name = "REGEX", group = "condition")]
        pattern: Option<String>,
        /// With --match: search the scrollback too.
        #[arg(long, requires = "pattern")]
        scrollback: bool,
        /// Give up after SECS (exit 124).
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
    },
    /// Print what a session's program wrote, from its start (the newest 32-64 MiB).
    Logs {
        name: String,
        /// Keep printing as the program writes, until it ends.
        #[arg(long, short)]
        follow: bool,
        /// The exact bytes, escape sequences and all (plain lines otherwise).
        #[arg(long)]
        raw: bool,
    },
    /// Follow session events (spawned, attached, detached, resized, busy, idle, title, bell, exited, removed).
    Events {
        name: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Control the background server.
    Server {
        #[command(subcommand)]
        action: ServerAction,
    },
}

#[derive(Args, Debug, Clone)]
pub struct SpawnArgs {
    /// Working directory (default: the current one).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// Extra environment variable; repeatable.
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Terminal size before anyone attaches (default: this terminal's, or 80x24).
    #[arg(long, value_name = "COLSxROWS")]
    pub size: Option<String>,
    /// Lines of scrollback to keep (default 10000).
    #[arg(long, value_name = "LINES")]
    pub scrollback: Option<usize>,
    /// Free text shown by `list`.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ServerAction {
    /// Start the server (in the background unless --foreground).
    Start {
        #[arg(long)]
        foreground: bool,
        /// Detach from the terminal's session first (used when a command starts the server).
        #[arg(long, hide = true)]
        daemon: bool,
    },
    /// Stop the server and every program it runs.
    Stop,
    /// Say whether a server runs, and what it holds.
    Status,
}

/// Prints a clap error as one `symp:` line (help and version print as usual).
pub fn report_usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            return ExitCode::from(2);
        }
        _ => {}
    }
    // clap's message runs until the first blank line (then comes Usage:); fold it
    // into one line so it names what was wrong, e.g. the missing argument.
    let rendered = err.render().to_string();
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    let message = message.trim_start_matches("error: ");
    eprintln!("symp: {message} (see `symp --help`)");
    ExitCode::from(2)
}
