//! An output buffer that grows in fixed chunks.
//!
//! A document is returned to the host as one byte list, so it must sit
//! whole in guest memory once. A `Vec` that doubles as it grows needs
//! three times its length for a moment at each doubling (the old block and
//! the new one), which for a 150 MB document is past a formatter's memory
//! cap. Chunks grow without copying; [`Chunked::into_vec`] then copies them
//! once into a block of the exact size, freeing each chunk as it goes, so
//! the peak is about twice the document.

use std::io;

/// The size of one chunk.
const CHUNK: usize = 1 << 20;

/// Bytes written in chunks.
#[derive(Default)]
pub struct Chunked {
    full: Vec<Vec<u8>>,
    current: Vec<u8>,
    len: usize,
}

impl Chunked {
    /// An empty buffer.
    pub fn new() -> Chunked {
        Chunked::default()
    }

    /// Appends `bytes`.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        if self.current.len() + bytes.len() > CHUNK && !self.current.is_empty() {
            let full = std::mem::replace(&mut self.current, Vec::with_capacity(CHUNK));
            self.full.push(full);
        }
        if self.current.capacity() == 0 {
            self.current.reserve(CHUNK.max(bytes.len()));
        }
        self.current.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Appends one byte.
    pub fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }

    /// The bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole document in one block of its exact size.
    pub fn into_vec(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for chunk in self.full {
            out.extend_from_slice(&chunk);
        }
        out.extend_from_slice(&self.current);
        out
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
        let big = vec![b'x'; 3 * CHUNK];
        c.extend_from_slice(&big);
        plain.extend_from_slice(&big);
        assert_eq!(c.len(), plain.len());
        let joined = c.into_vec();
        assert_eq!(joined.capacity(), plain.len());
        assert!(joined == plain);
    }
}
