//! Each subcommand: build the request, talk to the server, print the answer.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use symp_protocol::{ClientMsg, ServerMsg, Size, SpawnRequest};
use symp_server::{procs, Paths};

use crate::attach::{self, AttachOptions};
use crate::cli::{Cli, Command, ServerAction, SpawnArgs};
use crate::connect::{self, request, runtime, try_connect};
use crate::output::{outln, write};
use crate::{json, list_view, logs, script_commands};

pub fn run(cli: Cli) -> Result<u8> {
    let paths = Paths::from_env()?;
    match cli.command {
        Command::Server {
            action:
                ServerAction::Start {
                    foreground: true,
                    daemon,
                },
        } => serve(paths, daemon),
        Command::Server { action } => runtime()?.block_on(server_command(&paths, action)),
        Command::New {
            name,
            spawn,
            detach_key,
            command,
        } => {
            let options = AttachOptions::new(&paths, name.clone(), false, detach_key.as_deref())?;
            attach::require_terminal()?;
            let req = spawn_request(Some(name), &spawn, command)?;
            let rt = runtime()?;
            rt.block_on(request(&paths, ClientMsg::Spawn(req)))?;
            rt.block_on(attach::run(&paths, options))
        }
        Command::Spawn {
            name,
            spawn,
            command,
        } => {
            let req = spawn_request(name, &spawn, command)?;
            match runtime()?.block_on(request(&paths, ClientMsg::Spawn(req)))? {
                ServerMsg::Spawned { name, .. } => outln!("{name}")?,
                other => bail!("unexpected reply: {other:?}"),
            }
            Ok(0)
        }
        Command::List { json, all } => {
            let ServerMsg::Sessions(sessions) =
                runtime()?.block_on(request(&paths, ClientMsg::List { all }))?
            else {
                bail!("unexpected reply to list");
            };
            if json {
                let rows: Vec<json::SessionJson> = sessions.iter().map(Into::into).collect();
                outln!("{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                let table = list_view::render(&sessions, symp_server::events::now_ms());
                write(format_args!("{table}"))?;
            }
            Ok(0)
        }
        Command::Attach {
            name,
            read_only,
            detach_key,
        } => {
            let options = AttachOptions::new(&paths, name, read_only, detach_key.as_deref())?;
            attach::require_terminal()?;
            runtime()?.block_on(attach::run(&paths, options))
        }
        Command::Kill { name, signal } => {
            let signal = match signal {
                Some(text) => Some(
                    procs::parse_signal(&text).ok_or_else(|| anyhow!("unknown signal {text}"))?
                        as i32,
                ),
                None => None,
            };
            runtime()?.block_on(request(&paths, ClientMsg::Kill { name, signal }))?;
            Ok(0)
        }
        Command::Send {
            name,
            text,
            keys,
            enter,
            paste,
            settle,
        } => runtime()?.block_on(script_commands::send(
            &paths, name, text, keys, enter, paste, settle,
        )),
        Command::Capture {
            name,
            ansi,
            scrollback,
            all,
            json,
        } => runtime()?.block_on(script_commands::capture(
            &paths, name, ansi, scrollback, all, json,
        )),
        Command::Wait {
            name,
            exit,
            idle,
            pattern,
            scrollback,
            timeout,
        } => runtime()?.block_on(script_commands::wait(
            &paths, name, exit, idle, pattern, scrollback, timeout,
        )),
        Command::Logs { name, follow, raw } => {
            runtime()?.block_on(logs::logs(&paths, name, follow, raw))
        }
        Command::Events { name, json } => {
            runtime()?.block_on(script_commands::events(&paths, name, json))
        }
        Command::Rm { names, exited } => {
            runtime()?.block_on(request(&paths, ClientMsg::Remove { names, exited }))?;
            Ok(0)
        }
    }
}

/// `symp server start --foreground`: become the server.
fn serve(paths: Paths, daemon: bool) -> Result<u8> {
    if daemon {
        // Leave the starting terminal's session so its hangup never reaches us.
        let _ = nix::unistd::setsid();
    }
    match symp_server::run(paths) {
        Ok(()) => Ok(0),
        // Lost a start race: the winner serves, which is all the caller wanted.
        Err(err) if daemon && err.is::<symp_server::AlreadyRunning>() => Ok(0),
        Err(err) => Err(err),
    }
}

async fn server_command(paths: &Paths, action: ServerAction) -> Result<u8> {
    match action {
        ServerAction::Start { .. } => {
            if let Some(pid) = server_pid(paths).await? {
                outln!("server already running (pid {pid})")?;
                return Ok(0);
            }
            connect::spawn_server(paths)?;
            connect::wait_for_server(paths).await?;
            let pid = server_pid(paths)
                .await?
                .context("the server stopped right after starting")?;
            outln!("server started (pid {pid})")?;
            Ok(0)
        }
        ServerAction::Status => match try_connect(paths).await? {
            None => {
                outln!("no server running")?;
                Ok(1)
            }
            Some(mut conn) => {
                futures_util::SinkExt::send(&mut conn, ClientMsg::ServerStatus).await?;
                let ServerMsg::ServerInfo {
                    pid,
                    version,
                    sessions,
                    running,
                } = connect::recv(&mut conn).await?
                else {
                    bail!("unexpected reply to status");
                };
                outln!("server running (pid {pid}, version {version}, {running} running of {sessions} sessions)")?;
                outln!("socket {}", paths.socket().display())?;
                Ok(0)
            }
        },
        ServerAction::Stop => {
            let Some(mut conn) = try_connect(paths).await? else {
                outln!("no server running")?;
                return Ok(0);
            };
            futures_util::SinkExt::send(&mut conn, ClientMsg::ServerStop).await?;
            connect::recv(&mut conn).await?;
            // Done means the programs are ended; wait for the socket to go too.
            let deadline = Instant::now() + Duration::from_secs(10);
            while try_connect(paths).await?.is_some() {
                if Instant::now() > deadline {
                    bail!("the server did not exit");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            outln!("server stopped")?;
            Ok(0)
        }
    }
}

async fn server_pid(paths: &Paths) -> Result<Option<u32>> {
    let Some(mut conn) = try_connect(paths).await? else {
        return Ok(None);
    };
    futures_util::SinkExt::send(&mut conn, ClientMsg::ServerStatus).await?;
    match connect::recv(&mut conn).await? {
        ServerMsg::ServerInfo { pid, .. } => Ok(Some(pid)),
        other => bail!("unexpected reply to status: {other:?}"),
    }
}

fn spawn_request(
    name: Option<String>,
    args: &SpawnArgs,
    command: Vec<String>,
) -> Result<SpawnRequest> {
    if let Some(name) = &name {
        symp_server::registry::validate_name(name)?;
    }
    let cwd = match &args.cwd {
        Some(dir) => std::path::absolute(dir).with_context(|| format!("bad --cwd {dir}"))?,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k != "SYMP_SESSION")
        .collect();
    for pair in &args.env {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--env wants K=V, got {pair:?}"))?;
        if k.is_empty() {
            bail!("--env wants K=V, got {pair:?}");
        }
        env.push((k.to_owned(), v.to_owned()));
    }
    let size = match &args.size {
        Some(text) => parse_size(text)?,
        None => terminal_size().unwrap_or(Size { cols: 80, rows: 24 }),
    };
    Ok(SpawnRequest {
        name,
        command,
        cwd: cwd.to_string_lossy().into_owned(),
        env,
        size,
        scrollback: args.scrollback,
        label: args.label.clone(),
    })
}

fn parse_size(text: &str) -> Result<Size> {
    let bad = || anyhow!("--size wants COLSxROWS like 120x40, got {text:?}");
    let (cols, rows) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let cols: u16 = cols.parse().map_err(|_| bad())?;
    let rows: u16 = rows.parse().map_err(|_| bad())?;
    if !(2..=1000).contains(&cols) || !(2..=1000).contains(&rows) {
        bail!("--size {text} is out of range (2..1000 each way)");
    }
    Ok(Size { cols, rows })
}

pub fn terminal_size() -> Option<Size> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let (cols, rows) = crossterm::terminal::size().ok()?;
    (cols > 0 && rows > 0).then_some(Size { cols, rows })
}
