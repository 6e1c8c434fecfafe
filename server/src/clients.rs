//! Who is attached to a session, and which interactive client owns the input and
//! the pty size: the one that most recently attached, typed or resized.

use symp_protocol::Size;

pub type ClientId = u64;

struct Entry {
    id: ClientId,
    read_only: bool,
    size: Size,
    /// Higher is more recent; read-only clients never gain it.
    last_active: u64,
}

#[derive(Default)]
pub struct Clients {
    entries: Vec<Entry>,
    next_id: ClientId,
    clock: u64,
}

impl Clients {
    /// Adds a client. Returns its id and, for an interactive one, the size the pty
    /// should take now that it leads.
    pub fn join(&mut self, read_only: bool, size: Size) -> (ClientId, Option<Size>) {
        self.next_id += 1;
        self.clock += 1;
        let id = self.next_id;
        let last_active = if read_only { 0 } else { self.clock };
        self.entries.push(Entry {
            id,
            read_only,
            size,
            last_active,
        });
        (id, (!read_only).then_some(size))
    }

    /// Removes a client; returns the new leader's size if the leader changed.
    pub fn leave(&mut self, id: ClientId) -> Option<Size> {
        let was_leader = self.is_leader(id);
        self.entries.retain(|e| e.id != id);
        if was_leader {
            self.leader().map(|e| e.size)
        } else {
            None
        }
    }

    /// The client typed: it becomes the leader. Returns its size if leadership moved.
    pub fn touch(&mut self, id: ClientId) -> Option<Size> {
        let was_leader = self.is_leader(id);
        self.clock += 1;
        let clock = self.clock;
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.id == id && !e.read_only)?;
        entry.last_active = clock;
        (!was_leader).then_some(entry.size)
    }

    /// The client's terminal changed size. Returns the pty size to apply if it leads.
    pub fn resize(&mut self, id: ClientId, size: Size) -> Option<Size> {
        let entry = self.entries.iter_mut().find(|e| e.id == id)?;
        entry.size = size;
        self.is_leader(id).then_some(size)
    }

    pub fn is_leader(&self, id: ClientId) -> bool {
        self.leader().is_some_and(|e| e.id == id)
    }

    fn leader(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| !e.read_only)
            .max_by_key(|e| e.last_active)
    }

    /// (all clients, read-only clients)
    pub fn counts(&self) -> (u32, u32) {
        let read_only = self.entries.iter().filter(|e| e.read_only).count();
        (self.entries.len() as u32, read_only as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Size = Size {
        cols: 100,
        rows: 30,
    };
    const B: Size = Size { cols: 60, rows: 20 };

    #[test]
    fn the_most_recently_active_interactive_client_sets_the_size() {
        let mut c = Clients::default();
        let (a, size) = c.join(false, A);
        assert_eq!(size, Some(A));
        let (b, size) = c.join(false, B);
        assert_eq!(size, Some(B));
        assert_eq!(c.touch(a), Some(A));
        assert_eq!(c.touch(a), None, "already leading");
        assert_eq!(
            c.resize(b, Size { cols: 70, rows: 20 }),
            None,
            "b does not lead"
        );
        assert_eq!(c.leave(a), Some(Size { cols: 70, rows: 20 }));
    }

    #[test]
    fn read_only_viewers_never_lead() {
        let mut c = Clients::default();
        let (a, _) = c.join(false, A);
        let (v, size) = c.join(true, B);
        assert_eq!(size, None);
        assert_eq!(c.touch(v), None);
        assert_eq!(c.resize(v, B), None);
        assert!(c.is_leader(a));
        assert_eq!(c.counts(), (2, 1));
    }
}
