//! The document in progress. The host calls `begin`, then `add-resources`
//! any number of times, then `finish`, on one instance; the exports are
//! free functions, so the state lives in a static slot.

use std::sync::Mutex;

/// A slot holding at most one document in progress.
pub struct Slot<T>(Mutex<Option<T>>);

impl<T> Slot<T> {
    /// An empty slot, for a `static`.
    pub const fn new() -> Slot<T> {
        Slot(Mutex::new(None))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<T>> {
        // A poisoned lock only means an earlier call stopped half-way; the
        // data is still the best there is.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Puts a new document in the slot. Returns true when it replaced one
    /// that was never finished.
    pub fn start(&self, value: T) -> bool {
        self.lock().replace(value).is_some()
    }

    /// Runs `f` on the document in progress; `None` when there is none.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.lock().as_mut().map(f)
    }

    /// Takes the document out, leaving the slot empty.
    pub fn take(&self) -> Option<T> {
        self.lock().take()
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot::new()
    }
}
