//! Each session's output on disk, for `symp logs`: the bytes the program wrote
//! (terminal queries cut out), from spawn until `rm`, kept to two files of
//! `TRANSCRIPT_FILE_BYTES` (the newest output). One background thread writes
//! them all, so no session, and not the parser, ever waits on the disk.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use crate::sync::lock;

/// A transcript file grows to this, then becomes `NAME.log.1` (replacing the one
/// before) and a new `NAME.log` starts: a session's transcript is the newest
/// 32 to 64 MiB of its output.
pub const TRANSCRIPT_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Writes waiting for the disk. Past this (the disk stalls), output is left out
/// of the transcript, and a line there says how much.
const QUEUE: usize = 256;

/// Where session NAME's transcript lives, newest last: `NAME.log.1`, `NAME.log`.
pub fn files(dir: &Path, name: &str) -> [PathBuf; 2] {
    [
        dir.join(format!("{name}.log.1")),
        dir.join(format!("{name}.log")),
    ]
}

/// Every job names the incarnation of its session name it belongs to: `rm` ends
/// one, and the next session of that name is the next. The writer drops jobs of
/// an incarnation older than one it has seen, so a deletion that waited for room
/// in a full queue cannot land on a newer session's first writes.
enum Job {
    Append {
        name: String,
        incarnation: u64,
        bytes: Vec<u8>,
    },
    Remove {
        name: String,
        incarnation: u64,
    },
}

/// A handle on the writer thread (started with the first write).
#[derive(Clone)]
pub struct Transcripts {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    max_file_bytes: u64,
    writer: Mutex<Option<SyncSender<Job>>>,
    /// Bytes left out per session (the queue was full), said in its transcript
    /// before its next write.
    left_out: Mutex<HashMap<String, u64>>,
    /// Each name's current incarnation (how many times `rm` removed it).
    incarnations: Mutex<HashMap<String, u64>>,
}

impl Transcripts {
    pub fn new(dir: PathBuf) -> Self {
        Self::with_file_limit(dir, TRANSCRIPT_FILE_BYTES)
    }

    fn with_file_limit(dir: PathBuf, max_file_bytes: u64) -> Self {
        Self {
            shared: Arc::new(Shared {
                dir,
                max_file_bytes,
                writer: Mutex::new(None),
                left_out: Mutex::new(HashMap::new()),
                incarnations: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    fn incarnation(&self, name: &str) -> u64 {
        lock(&self.shared.incarnations)
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    /// Queues output for session `name`'s transcript; never waits.
    pub fn append(&self, name: &str, bytes: Vec<u8>) {
        let Some(writer) = self.writer() else { return };
        let incarnation = self.incarnation(name);
        let mut left_out = lock(&self.shared.left_out);
        if let Some(&missing) = left_out.get(name) {
            let note = format!("\r\n[symp: {missing} bytes of output are missing here]\r\n");
            let job = Job::Append {
                name: name.into(),
                incarnation,
                bytes: note.into_bytes(),
            };
            if writer.try_send(job).is_err() {
                *left_out.entry(name.into()).or_default() += bytes.len() as u64;
                return;
            }
            left_out.remove(name);
        }
        let len = bytes.len() as u64;
        let job = Job::Append {
            name: name.into(),
            incarnation,
            bytes,
        };
        if let Err(TrySendError::Full(_)) = writer.try_send(job) {
            *left_out.entry(name.into()).or_default() += len;
        }
    }

    /// Deletes whatever transcript a session of this name left, now: for a new
    /// session (no writes of its own are queued yet).
    pub fn start_afresh(&self, name: &str) {
        remove_files(&self.shared.dir, name);
    }

    /// Deletes session `name`'s transcript, after the writes queued before. Never
    /// waits: if the queue is full (the disk stalls), a blocking-pool thread
    /// waits for room (and the next session of this name is safe from it: see
    /// `Job`).
    pub fn remove(&self, name: &str) {
        lock(&self.shared.left_out).remove(name);
        let incarnation = {
            let mut incarnations = lock(&self.shared.incarnations);
            let current = incarnations.entry(name.into()).or_default();
            *current += 1;
            *current - 1
        };
        let Some(writer) = self.writer() else {
            return remove_files(&self.shared.dir, name);
        };
        let job = Job::Remove {
            name: name.into(),
            incarnation,
        };
        if let Err(TrySendError::Full(job)) = writer.try_send(job) {
            tokio::task::spawn_blocking(move || writer.send(job));
        }
    }

    /// The writer thread's queue, starting the thread the first time.
    fn writer(&self) -> Option<SyncSender<Job>> {
        let mut writer = lock(&self.shared.writer);
        if writer.is_none() {
            let (tx, rx) = sync_channel(QUEUE);
            let (dir, max) = (self.shared.dir.clone(), self.shared.max_file_bytes);
            let started = std::thread::Builder::new()
                .name("transcripts".into())
                .spawn(move || write_jobs(&dir, max, &rx));
            match started {
                Ok(_) => *writer = Some(tx),
                Err(err) => tracing::error!("cannot start the transcript writer: {err}"),
            }
        }
        writer.clone()
    }
}

fn write_jobs(dir: &Path, max_file_bytes: u64, jobs: &Receiver<Job>) {
    if let Err(err) = crate::paths::create_private_dir(dir) {
        tracing::error!("no transcripts: {err:#}");
    }
    // Per name, the first incarnation whose jobs still count.
    let mut live: HashMap<String, u64> = HashMap::new();
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Append {
                name,
                incarnation,
                bytes,
            } => {
                let oldest = live.entry(name.clone()).or_insert(incarnation);
                if incarnation < *oldest {
                    continue;
                }
                if incarnation > *oldest {
                    // A newer session of this name writes before the deletion of
                    // the older one's transcript came: that deletion is this.
                    remove_files(dir, &name);
                    *oldest = incarnation;
                }
                if let Err(err) = append(dir, &name, &bytes, max_file_bytes) {
                    tracing::warn!(session = %name, "cannot write the transcript: {err}");
                }
            }
            Job::Remove { name, incarnation } => {
                let oldest = live.entry(name.clone()).or_insert(incarnation);
                if incarnation >= *oldest {
                    remove_files(dir, &name);
                    *oldest = incarnation + 1;
                }
            }
        }
    }
}

/// Opened per write, not kept open: nothing to close when a session ends or is
/// removed, and a write is a batch of up to 64 KiB, a few hundred a second at most.
fn append(dir: &Path, name: &str, bytes: &[u8], max_file_bytes: u64) -> std::io::Result<()> {
    let [older, current] = files(dir, name);
    let open = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&current)
    };
    let mut file = open()?;
    let size = file.metadata()?.len();
    if size > 0 && size + bytes.len() as u64 > max_file_bytes {
        drop(file);
        fs::rename(&current, &older)?;
        file = open()?;
    }
    file.write_all(bytes)
}

fn remove_files(dir: &Path, name: &str) {
    for file in files(dir, name) {
        let _ = fs::remove_file(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `cond` until it holds, failing after 10 s.
    fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !cond() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    fn read(path: &Path) -> String {
        String::from_utf8(fs::read(path).unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn a_full_file_becomes_the_older_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        for chunk in ["aaaa", "bbbb", "cccc"] {
            append(dir.path(), "s", chunk.as_bytes(), 8).expect("append");
        }
        let [older, current] = files(dir.path(), "s");
        assert_eq!(read(&older), "aaaabbbb");
        assert_eq!(read(&current), "cccc");
        append(dir.path(), "s", b"dddddddddddd", 8).expect("append");
        assert_eq!(read(&older), "cccc");
        // A write bigger than a file still goes in whole.
        assert_eq!(read(&current), "dddddddddddd");
    }

    #[test]
    fn writes_and_a_removal_happen_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let transcripts = Transcripts::new(dir.path().join("transcripts"));
        transcripts.append("agent", b"hello ".to_vec());
        transcripts.append("agent", b"world".to_vec());
        let [_, current] = files(transcripts.dir(), "agent");
        wait_for("the transcript", || read(&current) == "hello world");
        transcripts.remove("agent");
        wait_for("the transcript to go", || !current.exists());
    }

    #[test]
    fn a_late_deletion_spares_the_next_session_of_the_name() {
        // The disk stalled with the queue full: `rm`'s deletion of the first
        // session's transcript got into the queue only after the next session of
        // that name had written.
        let dir = tempfile::tempdir().expect("temp dir");
        let (tx, rx) = sync_channel(16);
        let append = |incarnation, text: &str| Job::Append {
            name: "agent".into(),
            incarnation,
            bytes: text.as_bytes().to_vec(),
        };
        for job in [
            append(0, "old "),
            append(1, "new "),
            Job::Remove {
                name: "agent".into(),
                incarnation: 0,
            },
            append(1, "more"),
        ] {
            tx.send(job).expect("queued");
        }
        drop(tx);
        write_jobs(dir.path(), TRANSCRIPT_FILE_BYTES, &rx);
        let [older, current] = files(dir.path(), "agent");
        assert_eq!(read(&current), "new more");
        assert!(!older.exists());
    }
}
