//! Writing a formatter's document to the host as it is made.
//!
//! [`write`] hands one piece to the host's `output` import, which appends
//! it to the file it holds open for the document; [`write_all`] cuts a
//! large block into pieces of [`PIECE`] bytes. A piece the host refuses
//! (past the size cap, or a failed write) loses the document: the error's
//! text says why, and the formatter should stop and return it from
//! `finish`.
//!
//! Only a formatter may call these: the import belongs to the
//! `formatter-plugin` world. Outside WebAssembly (a plugin's native unit
//! tests) there is no host, and a call panics.

pub use crate::formatter::inventag::plugin::output::WriteError;

/// The size of the pieces [`write_all`] sends: big enough that the cost
/// of a host call disappears, small enough that the copy is cheap.
pub const PIECE: usize = 1 << 20;

/// Appends `bytes` to the document.
pub fn write(bytes: &[u8]) -> Result<(), String> {
    crate::formatter::inventag::plugin::output::write(bytes).map_err(|e| match e {
        WriteError::TooLarge(cap) => {
            format!("the document passed the host's size cap of {cap} bytes")
        }
        WriteError::Failed(reason) => format!("the host could not write the document: {reason}"),
    })
}

/// Appends `bytes` to the document, [`PIECE`] bytes at a time.
pub fn write_all(bytes: &[u8]) -> Result<(), String> {
    bytes.chunks(PIECE).try_for_each(write)
}
