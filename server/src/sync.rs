//! Locks that outlive a panic elsewhere: the data behind the server's mutexes
//! stays consistent between statements, so a poisoned lock is taken as it is
//! rather than taking a session, or the server, down with it.

use std::sync::{Mutex, MutexGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
