//! Query answers that find a session's input queue full: they wait here, in order
//! and bounded, for one task on the runtime to queue them. The parser thread, which
//! serves every session, never waits on one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::{self, error::TrySendError};

use crate::sync::lock;

/// Answers that may wait. A program that asks this many times without reading
/// its input is not waiting for one of them: later ones are dropped (and
/// logged), so it cannot make the server's memory grow.
const MAX_WAITING: usize = 64;

#[derive(Default)]
pub struct ReplyQueue {
    waiting: Arc<Mutex<Waiting>>,
}

#[derive(Default)]
struct Waiting {
    replies: VecDeque<Vec<u8>>,
    /// A task is feeding `replies` into the input queue.
    draining: bool,
    /// Answers were dropped (said once in the log).
    dropping: bool,
}

impl ReplyQueue {
    /// Queues `reply` for the program behind everything queued before it.
    pub fn push(
        &self,
        input: &mpsc::Sender<Vec<u8>>,
        runtime: &tokio::runtime::Handle,
        reply: Vec<u8>,
    ) {
        let mut waiting = lock(&self.waiting);
        let reply = if waiting.draining {
            reply
        } else {
            match input.try_send(reply) {
                Ok(()) | Err(TrySendError::Closed(_)) => return,
                Err(TrySendError::Full(reply)) => reply,
            }
        };
        if waiting.replies.len() >= MAX_WAITING {
            if !std::mem::replace(&mut waiting.dropping, true) {
                tracing::warn!("a program that reads no input keeps asking; answers are dropped");
            }
            return;
        }
        waiting.replies.push_back(reply);
        if !waiting.draining {
            waiting.draining = true;
            runtime.spawn(drain(self.waiting.clone(), input.clone()));
        }
    }
}

/// Feeds the waiting answers into the input queue, as room comes, until none wait
/// or the program's input is gone.
async fn drain(waiting: Arc<Mutex<Waiting>>, input: mpsc::Sender<Vec<u8>>) {
    loop {
        let next = {
            let mut waiting = lock(&waiting);
            let next = waiting.replies.pop_front();
            waiting.draining = next.is_some();
            next
        };
        let Some(reply) = next else { return };
        if input.send(reply).await.is_err() {
            let mut waiting = lock(&waiting);
            waiting.replies.clear();
            waiting.draining = false;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_wait_in_order_and_only_so_many() {
        let (tx, mut rx) = mpsc::channel(1);
        let queue = ReplyQueue::default();
        let runtime = tokio::runtime::Handle::current();
        for n in 0..100u8 {
            queue.push(&tx, &runtime, vec![n]);
        }
        // One went straight in, `MAX_WAITING` wait, the rest were dropped.
        let mut got = Vec::new();
        while got.len() < 1 + MAX_WAITING {
            got.push(rx.recv().await.expect("an answer")[0]);
        }
        let expected: Vec<u8> = (0..=MAX_WAITING as u8).collect();
        assert_eq!(got, expected);
        assert!(rx.try_recv().is_err(), "only so many may wait");
        // Once drained, an answer goes straight in again.
        queue.push(&tx, &runtime, vec![200]);
        assert_eq!(rx.recv().await, Some(vec![200]));
    }
}
