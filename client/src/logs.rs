//! `symp logs NAME [--follow] [--raw]`: a session's transcript (the server writes
//! it, see `symp_server::transcript`), as plain lines or the exact bytes, and
//! followed as it grows until the session ends.

use std::fs::File;
use std::io::{Read as _, Write};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};
use symp_protocol::{ClientMsg, ServerMsg, SessionInfo};
use symp_server::{transcript, Paths};

use crate::connect::request;
use crate::output::written;
use crate::plain_text::PlainText;

/// How often a follower looks for more.
const FOLLOW_POLL: Duration = Duration::from_millis(100);
/// How often a follower with nothing new asks whether the session still runs.
const STATUS_POLL: Duration = Duration::from_secs(1);

pub async fn logs(paths: &Paths, name: String, follow: bool, raw: bool) -> Result<u8> {
    let mut running = session(paths, &name).await?.status.is_running();
    let mut out = Output::new(raw, std::io::stdout().lock());
    let mut transcript = TranscriptReader::new(&paths.transcripts_dir(), &name);
    transcript.read_older(&mut out)?;
    transcript.read_new(&mut out)?;
    let mut quiet = Duration::ZERO;
    while follow && running {
        tokio::time::sleep(FOLLOW_POLL).await;
        if transcript.read_new(&mut out)? {
            quiet = Duration::ZERO;
            continue;
        }
        quiet += FOLLOW_POLL;
        if quiet >= STATUS_POLL {
            quiet = Duration::ZERO;
            running = session(paths, &name).await?.status.is_running();
            // The program's last output may reach the transcript just after it ends.
            if !running {
                tokio::time::sleep(FOLLOW_POLL).await;
                transcript.read_new(&mut out)?;
            }
        }
    }
    out.finish()?;
    Ok(0)
}

async fn session(paths: &Paths, name: &str) -> Result<SessionInfo> {
    let ServerMsg::Sessions(sessions) = request(paths, ClientMsg::List { all: true }).await? else {
        bail!("unexpected reply to list");
    };
    match sessions.into_iter().find(|s| s.name == name) {
        Some(session) => Ok(session),
        None => bail!("no session named {name}"),
    }
}

/// Where the transcript goes (stdout), as is or as plain lines.
struct Output<W> {
    plain: Option<PlainText>,
    out: W,
}

impl<W: Write> Output<W> {
    fn new(raw: bool, out: W) -> Self {
        Self {
            plain: (!raw).then(PlainText::default),
            out,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.plain {
            Some(plain) => {
                let lines = plain.feed(bytes);
                self.emit(lines.as_bytes())
            }
            None => self.emit(bytes),
        }
    }

    fn finish(&mut self) -> Result<()> {
        match &mut self.plain {
            Some(plain) => {
                let rest = plain.finish();
                self.emit(rest.as_bytes())
            }
            None => Ok(()),
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<()> {
        written(self.out.write_all(bytes).and_then(|()| self.out.flush()))
    }
}

/// Reads the transcript's files in order and notices when the server starts a
/// new one (the current file is renamed to the older one).
struct TranscriptReader {
    older: PathBuf,
    current: PathBuf,
    file: Option<File>,
    /// Reused for every read: a follower reads ten times a second.
    buf: Vec<u8>,
}

impl TranscriptReader {
    fn new(dir: &Path, name: &str) -> Self {
        let [older, current] = transcript::files(dir, name);
        Self {
            older,
            current,
            file: None,
            buf: vec![0; 64 * 1024],
        }
    }

    /// The older file, whole (only at the start).
    fn read_older(&mut self, out: &mut Output<impl Write>) -> Result<()> {
        if let Ok(mut file) = File::open(&self.older) {
            copy_to_end(&mut file, &mut self.buf, out)?;
        }
        Ok(())
    }

    /// Whatever the current file gained; whether there was anything.
    fn read_new(&mut self, out: &mut Output<impl Write>) -> Result<bool> {
        let mut grew = false;
        loop {
            if self.file.is_none() {
                self.file = File::open(&self.current).ok();
            }
            let Some(file) = self.file.as_mut() else {
                return Ok(grew);
            };
            grew |= copy_to_end(file, &mut self.buf, out)?;
            // Still the current file? Then that was all. Otherwise it became the
            // older one: take what it got before the switch, then the new one.
            let ours = file.metadata()?.ino();
            match std::fs::metadata(&self.current) {
                Ok(now) if now.ino() == ours => return Ok(grew),
                _ => {
                    grew |= copy_to_end(file, &mut self.buf, out)?;
                    self.file = None;
                }
            }
        }
    }
}

/// Copies from the file's position to its end; whether there was anything.
fn copy_to_end(file: &mut File, buf: &mut [u8], out: &mut Output<impl Write>) -> Result<bool> {
    let mut any = false;
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            return Ok(any);
        }
        any = true;
        out.put(&buf[..n])?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_follows_the_transcript_into_its_next_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let [older, current] = transcript::files(dir.path(), "s");
        std::fs::write(&older, "oldest ").expect("write");
        std::fs::write(&current, "old ").expect("write");
        let mut out = Output::new(true, Vec::new());
        let mut reader = TranscriptReader::new(dir.path(), "s");
        reader.read_older(&mut out).expect("read");
        assert!(reader.read_new(&mut out).expect("read"));
        assert!(!reader.read_new(&mut out).expect("read"), "nothing new yet");
        // The server adds to the file, then starts the next one.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&current)
            .expect("open");
        std::io::Write::write_all(&mut file, b"last-of-old ").expect("write");
        std::fs::rename(&current, &older).expect("rename");
        std::fs::write(&current, "new").expect("write");
        assert!(reader.read_new(&mut out).expect("read"));
        assert_eq!(
            String::from_utf8_lossy(&out.out),
            "oldest old last-of-old new"
        );
    }
}
