//! Handing records to the host in batches.
//!
//! The host takes records a batch at a time so that a large account never
//! sits whole in guest memory. [`Emitter`] buffers records, sends a batch
//! whenever [`BATCH_SIZE`] are waiting, sends the rest on
//! [`Emitter::finish`] (or, as a last resort, when it is dropped) and counts
//! what the host accepted.

use crate::collector::Resource;
use crate::collector::inventag::plugin::records;

pub use records::EmitError;

/// The most records the host takes in one `emit` call.
pub const BATCH_SIZE: usize = 200;

/// Buffers records and emits them in batches of at most [`BATCH_SIZE`].
///
/// After the host answers [`EmitError::LimitReached`] the emitter is
/// stopped: every later [`push`](Emitter::push) drops its record and returns
/// the same error without calling the host, and the collector should stop.
/// A batch refused as [`EmitError::Invalid`] is dropped and counted in
/// [`dropped`](Emitter::dropped); the emitter carries on.
#[derive(Debug)]
pub struct Emitter {
    buffer: Vec<Resource>,
    batch_size: usize,
    emitted: u64,
    dropped: u64,
    limit: Option<u64>,
}

impl Default for Emitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Emitter {
    /// An emitter with batches of [`BATCH_SIZE`].
    pub fn new() -> Self {
        Self::with_batch_size(BATCH_SIZE)
    }

    /// An emitter with smaller batches; `batch_size` is clamped to
    /// `1..=BATCH_SIZE`.
    pub fn with_batch_size(batch_size: usize) -> Self {
        let batch_size = batch_size.clamp(1, BATCH_SIZE);
        Emitter {
            buffer: Vec::with_capacity(batch_size),
            batch_size,
            emitted: 0,
            dropped: 0,
            limit: None,
        }
    }

    /// Adds one record, emitting the buffered batch once it is full.
    ///
    /// An error is the host's answer for the batch this record completed
    /// (or, once stopped, the limit error again).
    pub fn push(&mut self, record: Resource) -> Result<(), EmitError> {
        if let Some(limit) = self.limit {
            self.dropped += 1;
            return Err(EmitError::LimitReached(limit));
        }
        self.buffer.push(record);
        if self.buffer.len() >= self.batch_size { self.flush() } else { Ok(()) }
    }

    /// Emits whatever is buffered now.
    pub fn flush(&mut self) -> Result<(), EmitError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.buffer);
        let count = batch.len() as u64;
        if let Some(limit) = self.limit {
            self.dropped += count;
            return Err(EmitError::LimitReached(limit));
        }
        match records::emit(&batch) {
            Ok(()) => {
                self.emitted += count;
                self.buffer = batch;
                self.buffer.clear();
                Ok(())
            }
            Err(e) => {
                self.dropped += count;
                if let EmitError::LimitReached(limit) = e {
                    self.limit = Some(limit);
                }
                Err(e)
            }
        }
    }

    /// Emits what is left and returns how many records the host accepted.
    pub fn finish(mut self) -> Result<u64, EmitError> {
        self.flush()?;
        Ok(self.emitted)
    }

    /// How many records the host has accepted so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// How many records were refused by the host or dropped after the limit.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many records wait in the buffer.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// True once the host has said its record limit is reached.
    pub fn is_stopped(&self) -> bool {
        self.limit.is_some()
    }
}

impl Drop for Emitter {
    /// Emits what is still buffered; errors are ignored here, so prefer
    /// [`Emitter::finish`], which reports them.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
