//! Session events: one broadcast that `symp events` subscribers and the registry
//! writer follow. A slow subscriber misses events (and is told so); nobody waits.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it starts missing some.
/// The channel allocates (and writes) every slot up front, so this is memory the
/// server holds for good: 1,024 slots of one `Arc` each, about 32 KiB (4,096
/// events stored inline were 384 KiB, most of an idle server's heap).
const EVENT_BACKLOG: usize = 1024;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    Spawned {
        pid: u32,
        command: Vec<String>,
    },
    Attached {
        client: u64,
        read_only: bool,
    },
    Detached {
        client: u64,
    },
    Resized {
        cols: u16,
        rows: u16,
    },
    Busy,
    Idle,
    Title {
        title: String,
    },
    Bell,
    Exited {
        status: String,
        code: Option<i32>,
        signal: Option<i32>,
    },
    Removed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub session: String,
    pub time_ms: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(EVENT_BACKLOG).0,
        }
    }
}

impl EventBus {
    pub fn emit(&self, session: &str, kind: EventKind) {
        // No subscribers is fine: events are only for whoever listens now.
        let _ = self.tx.send(Arc::new(Event {
            session: session.to_owned(),
            time_ms: now_ms(),
            kind,
        }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
