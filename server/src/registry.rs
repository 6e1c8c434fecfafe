//! All sessions by name, live or ended, and their record on disk. The map's lock is
//! held only for lookups and inserts, never across an await or a spawn.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use symp_protocol::{SessionInfo, SpawnRequest, Status};

use crate::config::Config;
use crate::events::{EventBus, EventKind};
use crate::reclaim::Reclaim;
use crate::session::Session;
use crate::shadow_parser::ShadowParser;
use crate::sync::lock;
use crate::transcript::Transcripts;

/// A session the server knows: one it runs, or one recorded by an earlier server.
#[derive(Clone)]
pub enum Entry {
    Live(Arc<Session>),
    /// Ended under an earlier server (or lost with it): listed, not attachable.
    Past(Box<SessionInfo>),
    /// Name reserved while its program starts.
    Starting,
}

#[derive(Serialize, Deserialize, Default)]
struct RegistryFile {
    sessions: Vec<SessionInfo>,
}

pub struct Registry {
    entries: Mutex<BTreeMap<String, Entry>>,
    file: PathBuf,
    pub bus: EventBus,
    /// Feeds every session's output into its shadow screen and transcript.
    parser: ShadowParser,
    transcripts: Transcripts,
    pub config: Config,
    /// Serialises writers of the registry file.
    write_lock: Mutex<()>,
}

impl Registry {
    /// Loads the record an earlier server left; what it ran is now `lost`.
    pub fn load(
        file: PathBuf,
        transcripts: Transcripts,
        bus: EventBus,
        config: Config,
        reclaim: Arc<Reclaim>,
    ) -> Self {
        let recorded: RegistryFile = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let entries = recorded
            .sessions
            .into_iter()
            .map(|mut info| {
                if info.status.is_running() {
                    info.status = Status::Lost;
                }
                info.clients = 0;
                info.read_only_clients = 0;
                (info.name.clone(), Entry::Past(Box::new(info)))
            })
            .collect();
        let registry = Self {
            entries: Mutex::new(entries),
            file,
            bus,
            parser: ShadowParser::new(transcripts.clone(), reclaim),
            transcripts,
            config,
            write_lock: Mutex::new(()),
        };
        registry.persist();
        registry
    }

    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        lock(&self.entries)
    }

    pub fn spawn(&self, req: &SpawnRequest) -> Result<Arc<Session>> {
        let name = {
            let mut entries = self.entries();
            let name = match &req.name {
                Some(name) => {
                    validate_name(name)?;
                    if entries.contains_key(name) {
                        bail!("a session named {name} already exists");
                    }
                    name.clone()
                }
                None => unique_name(
                    &entries,
                    req.command.first().map(String::as_str).unwrap_or("session"),
                ),
            };
            entries.insert(name.clone(), Entry::Starting);
            name
        };
        let mut req = req.clone();
        req.scrollback = req.scrollback.or(self.config.scrollback);
        // A transcript left by a session of this name that the registry forgot.
        self.transcripts.start_afresh(&name);
        match Session::spawn(name.clone(), &req, self.bus.clone(), self.parser.clone()) {
            Ok(session) => {
                tokio::spawn(crate::activity::monitor(
                    session.clone(),
                    self.config.idle_after(),
                ));
                self.entries().insert(name, Entry::Live(session.clone()));
                self.persist();
                Ok(session)
            }
            Err(err) => {
                self.entries().remove(&name);
                Err(err)
            }
        }
    }

    pub fn get(&self, name: &str) -> Result<Entry> {
        match self.entries().get(name) {
            Some(Entry::Starting) | None => bail!("no session named {name}"),
            Some(entry) => Ok(entry.clone()),
        }
    }

    pub fn live(&self, name: &str) -> Result<Arc<Session>> {
        match self.get(name)? {
            Entry::Live(session) => Ok(session),
            Entry::Past(info) => bail!(
                "session {name} is {} and its screen is gone (it ended under an earlier server)",
                crate::session::status_word(info.status)
            ),
            Entry::Starting => bail!("no session named {name}"),
        }
    }

    pub fn live_sessions(&self) -> Vec<Arc<Session>> {
        self.entries()
            .values()
            .filter_map(|e| match e {
                Entry::Live(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn list(&self, all: bool) -> Vec<SessionInfo> {
        let entries: Vec<Entry> = self.entries().values().cloned().collect();
        entries
            .into_iter()
            .filter_map(|e| match e {
                Entry::Live(s) => Some(s.info()),
                Entry::Past(info) => Some(*info),
                Entry::Starting => None,
            })
            .filter(|info| all || info.status.is_running())
            .collect()
    }

    /// Removes ended sessions by name (or all ended ones). A running one is an error
    /// and nothing is removed.
    pub fn remove(&self, names: &[String], all_ended: bool) -> Result<Vec<String>> {
        let removed = {
            let mut entries = self.entries();
            let targets: Vec<String> = if all_ended {
                entries
                    .iter()
                    .filter(|(_, e)| entry_ended(e))
                    .map(|(n, _)| n.clone())
                    .collect()
            } else {
                for name in names {
                    match entries.get(name) {
                        None | Some(Entry::Starting) => bail!("no session named {name}"),
                        Some(e) if !entry_ended(e) => {
                            bail!("session {name} is still running; `symp kill {name}` first")
                        }
                        Some(_) => {}
                    }
                }
                names.to_vec()
            };
            for name in &targets {
                if let Some(Entry::Live(session)) = entries.remove(name) {
                    // The parser may still be behind on it: nothing more of it
                    // goes to the transcript about to be deleted.
                    session.mark_removed();
                    // Its screen and history go once its tasks end.
                    self.parser.reclaim().session_removed();
                }
            }
            targets
        };
        for name in &removed {
            self.bus.emit(name, EventKind::Removed);
        }
        for name in &removed {
            self.transcripts.remove(name);
        }
        self.persist();
        Ok(removed)
    }

    /// Writes the registry atomically: a temporary file renamed over the old one.
    pub fn persist(&self) {
        let _guard = lock(&self.write_lock);
        let file = RegistryFile {
            sessions: self.list(true),
        };
        if let Err(err) = write_atomically(&self.file, &file) {
            tracing::error!("cannot write the registry: {err:#}");
        }
    }
}

fn entry_ended(entry: &Entry) -> bool {
    match entry {
        Entry::Live(s) => !s.status().is_running(),
        Entry::Past(_) => true,
        Entry::Starting => false,
    }
}

fn write_atomically(path: &std::path::Path, file: &RegistryFile) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(file)?;
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming onto {}", path.display()))
}

pub fn validate_name(name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) {
        bail!("invalid session name {name:?}: use 1-64 of A-Z a-z 0-9 . _ -");
    }
    Ok(())
}

/// `bash-1`, `bash-2`, ...: the program's file name and the first free number.
fn unique_name(entries: &BTreeMap<String, Entry>, program: &str) -> String {
    let base: String = program
        .rsplit('/')
        .next()
        .unwrap_or(program)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(48)
        .collect();
    let base = if base.is_empty() {
        "session".to_owned()
    } else {
        base
    };
    (1..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| !entries.contains_key(name))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("agent-1.main_x").is_ok());
        for bad in ["", "has space", "slash/y", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_names_come_from_the_program() {
        let mut entries = BTreeMap::new();
        assert_eq!(unique_name(&entries, "/usr/bin/bash"), "bash-1");
        entries.insert("bash-1".to_owned(), Entry::Starting);
        assert_eq!(unique_name(&entries, "bash"), "bash-2");
    }
}
