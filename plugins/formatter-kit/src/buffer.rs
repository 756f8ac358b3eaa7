//! An output buffer that hands its full chunks to the host as it goes.
//!
//! A document can be far larger than a formatter's memory cap, so it is
//! never kept whole: bytes gather in one chunk of [`CHUNK`] bytes, and each
//! full chunk goes to the host's `output.write` (inside WebAssembly) and is
//! dropped. [`Chunked::finish`] sends the last bytes and reports the first
//! refusal, if the host refused a chunk (past its size cap, or a failed
//! write); after a refusal, further bytes are dropped.
//!
//! Outside WebAssembly there is no host: a formatter's native unit tests
//! get the whole document back from [`Chunked::finish`] instead. The same
//! holds for [`deliver`], which sends a document made in one block (a zip
//! archive, say) in chunks.

use std::io;

/// The size of one chunk.
pub const CHUNK: usize = 1 << 20;

/// Where full chunks go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// To the host's `output.write`.
    Host,
    /// Kept in memory, for native tests.
    Memory,
}

/// Bytes written in chunks; see the [module docs](self).
#[derive(Debug)]
pub struct Chunked {
    sink: Sink,
    /// Chunks kept in memory (only with [`Sink::Memory`]).
    kept: Vec<Vec<u8>>,
    current: Vec<u8>,
    len: usize,
    error: Option<String>,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked::new()
    }
}

impl Chunked {
    /// A buffer that streams to the host inside WebAssembly and keeps
    /// everything in memory elsewhere.
    pub fn new() -> Chunked {
        let sink = if cfg!(target_family = "wasm") { Sink::Host } else { Sink::Memory };
        Chunked { sink, kept: Vec::new(), current: Vec::new(), len: 0, error: None }
    }

    /// Appends `bytes`.
    pub fn extend_from_slice(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len();
        while !bytes.is_empty() {
            if self.current.capacity() == 0 {
                self.current.reserve_exact(CHUNK);
            }
            let room = CHUNK - self.current.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.current.extend_from_slice(now);
            bytes = later;
            if self.current.len() == CHUNK {
                self.ship();
            }
        }
    }

    /// Appends one byte.
    pub fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }

    /// The bytes written so far, sent or not.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sends the last bytes. Returns what the host has not been given: the
    /// whole document outside WebAssembly, nothing inside. Fails with the
    /// host's reason when it refused a chunk.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        if !self.current.is_empty() {
            self.ship();
        }
        if let Some(error) = self.error {
            return Err(error);
        }
        let mut out = Vec::with_capacity(self.kept.iter().map(Vec::len).sum());
        for chunk in self.kept {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Hands the current chunk to the sink and starts an empty one.
    fn ship(&mut self) {
        let chunk = std::mem::take(&mut self.current);
        if self.error.is_some() {
            return;
        }
        match self.sink {
            Sink::Memory => self.kept.push(chunk),
            Sink::Host => {
                if let Err(e) = inventag_plugin_sdk::output::write(&chunk) {
                    self.error = Some(e);
                }
                // The emptied chunk's block is reused for the next one.
                self.current = chunk;
                self.current.clear();
            }
        }
    }
}

impl io::Write for Chunked {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sends a document made in one block: inside WebAssembly to the host in
/// chunks, returning nothing; elsewhere returns it whole.
pub fn deliver(document: Vec<u8>) -> Result<Vec<u8>, String> {
    if cfg!(target_family = "wasm") {
        inventag_plugin_sdk::output::write_all(&document)?;
        Ok(Vec::new())
    } else {
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_join_into_the_same_bytes() {
        let mut c = Chunked::new();
        let mut plain = Vec::new();
        for i in 0..300_000u32 {
            let piece = i.to_string();
            c.extend_from_slice(piece.as_bytes());
            c.push(b',');
            plain.extend_from_slice(piece.as_bytes());
            plain.push(b',');
        }
        let big = vec![b'x'; 3 * CHUNK + 7];
        c.extend_from_slice(&big);
        plain.extend_from_slice(&big);
        assert_eq!(c.len(), plain.len());
        assert!(c.kept.iter().all(|chunk| chunk.len() == CHUNK));
        let joined = c.finish().unwrap();
        assert!(joined == plain);
    }

    #[test]
    fn an_empty_buffer_finishes_empty() {
        assert_eq!(Chunked::new().finish().unwrap(), Vec::<u8>::new());
        assert_eq!(deliver(b"abc".to_vec()).unwrap(), b"abc");
    }
}
