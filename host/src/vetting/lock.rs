//! The lock file: the plugins a team has vetted, by file name and sha256.
//!
//! It is JSON, `inventag-plugins.lock` in the plugin directory unless
//! `--plugin-lock` names another file:
//!
//! ```json
//! {
//!   "version": 1,
//!   "plugins": [
//!     {"file": "collector-ec2.wasm", "sha256": "9f2c...", "plugin": "ec2@0.1.0",
//!      "kind": "collector", "vetted": "built from plugins/collector-ec2"}
//!   ]
//! }
//! ```
//!
//! `file` and `sha256` decide; `plugin`, `kind` and `vetted` (how it was
//! vetted) are for the reader. Parsing is strict: an unknown field or a
//! malformed digest is an error naming the file and the entry.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Digest, VettingError};

/// The format version this host reads and writes.
pub const LOCK_VERSION: u32 = 1;

/// The lock file's name in a plugin directory.
pub const LOCK_FILE_NAME: &str = "inventag-plugins.lock";

/// One vetted plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// The plugin's file name in its directory (`collector-ec2.wasm`).
    pub file: String,
    /// The sha256 of the file's bytes, 64 lower-case hex digits.
    pub sha256: String,
    /// `name@version` as the plugin declared itself, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// `collector` or `formatter`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// How it was vetted (`built from plugins/collector-ec2`,
    /// `inventag plugins vet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vetted: Option<String>,
}

/// The lock file's contents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    /// The format version, [`LOCK_VERSION`].
    pub version: u32,
    /// The vetted plugins, sorted by file name.
    pub plugins: Vec<LockEntry>,
}

/// The largest lock file read: some thousands of entries.
const MAX_LOCK_BYTES: u64 = 4 << 20;

impl LockFile {
    /// Reads `path`; a missing file is an empty lock.
    pub fn load(path: &Path) -> Result<LockFile, VettingError> {
        let bad = |message: String| VettingError::Lock { file: path.to_owned(), message };
        // A lock is a small regular file: a device, a pipe or a file of
        // gigabytes is refused before it is read.
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Err(bad("is not a regular file; give a lock file".into()));
            }
            Ok(meta) if meta.len() > MAX_LOCK_BYTES => {
                return Err(bad(format!(
                    "is {} bytes, over the {MAX_LOCK_BYTES} bytes a lock file may hold",
                    meta.len()
                )));
            }
            _ => {}
        }
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LockFile { version: LOCK_VERSION, plugins: Vec::new() });
            }
            Err(e) => return Err(VettingError::io(path, "cannot read the lock file", e)),
        };
        let de = &mut serde_json::Deserializer::from_str(&text);
        let lock: LockFile = serde_path_to_error::deserialize(de)
            .map_err(|e| bad(format!("field {}: {}", e.path(), e.inner())))?;
        if lock.version != LOCK_VERSION {
            return Err(bad(format!(
                "version {} is not supported (this inventag reads version {LOCK_VERSION})",
                lock.version
            )));
        }
        for (i, entry) in lock.plugins.iter().enumerate() {
            if Digest::parse(&entry.sha256).is_none() {
                return Err(bad(format!(
                    "field plugins[{i}].sha256: {:?} is not 64 lower-case hex digits",
                    entry.sha256
                )));
            }
            if entry.file.is_empty() || entry.file.contains(['/', '\\']) {
                return Err(bad(format!(
                    "field plugins[{i}].file: {:?} must be a plain file name",
                    entry.file
                )));
            }
            if let Some(j) = lock.plugins[..i].iter().position(|e| e.file == entry.file) {
                return Err(bad(format!(
                    "field plugins[{i}].file: {:?} is already listed as plugins[{j}]; \
                     keep one entry per file",
                    entry.file
                )));
            }
        }
        Ok(lock)
    }

    /// The entry for `file`, by file name.
    pub fn entry(&self, file: &str) -> Option<&LockEntry> {
        self.plugins.iter().find(|e| e.file == file)
    }

    /// Whether any entry has `digest` (a vetted build under another name).
    pub fn has_digest(&self, digest: &Digest) -> bool {
        self.plugins.iter().any(|e| e.sha256 == digest.to_string())
    }

    /// Adds `entry`, replacing any entry of the same file name.
    pub fn insert(&mut self, entry: LockEntry) {
        self.plugins.retain(|e| e.file != entry.file);
        self.plugins.push(entry);
        self.plugins.sort_by(|a, b| a.file.cmp(&b.file));
    }

    /// Writes the lock to `path` through a temporary file and a rename,
    /// so a reader never sees half a lock.
    pub fn save(&self, path: &Path) -> Result<PathBuf, VettingError> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        let fail = |e: std::io::Error| VettingError::io(path, "cannot write the lock file", e);
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(fail)?;
        set_mode(tmp.path(), 0o644).map_err(fail)?;
        tmp.persist(path).map_err(|e| fail(e.error))?;
        Ok(path.to_owned())
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_lock_reads_back_and_an_unknown_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE_NAME);
        let mut lock = LockFile { version: LOCK_VERSION, plugins: Vec::new() };
        lock.insert(LockEntry {
            file: "b.wasm".into(),
            sha256: "a".repeat(64),
            plugin: Some("b@1.0.0".into()),
            kind: Some("collector".into()),
            vetted: None,
        });
        lock.insert(LockEntry {
            file: "a.wasm".into(),
            sha256: "b".repeat(64),
            plugin: None,
            kind: None,
            vetted: None,
        });
        lock.save(&path).unwrap();
        let back = LockFile::load(&path).unwrap();
        assert_eq!(back, lock);
        assert_eq!(back.plugins[0].file, "a.wasm");

        std::fs::write(&path, r#"{"version":1,"plugins":[{"file":"a.wasm","sha":"x"}]}"#).unwrap();
        let e = LockFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("plugins[0]") && e.contains("sha"), "{e}");
        std::fs::write(&path, r#"{"version":1,"plugins":[{"file":"a.wasm","sha256":"x"}]}"#)
            .unwrap();
        let e = LockFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("plugins[0].sha256"), "{e}");
    }

    #[test]
    fn a_file_listed_twice_or_a_lock_that_is_no_regular_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE_NAME);
        let entry = |digit: char| {
            format!(r#"{{"file": "c.wasm", "sha256": "{}"}}"#, digit.to_string().repeat(64))
        };
        let text = format!(r#"{{"version": 1, "plugins": [{}, {}]}}"#, entry('a'), entry('b'));
        std::fs::write(&path, text).unwrap();
        let e = LockFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("plugins[1].file") && e.contains("already listed as plugins[0]"), "{e}");

        let e = LockFile::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is not a regular file"), "{e}");
    }
}
