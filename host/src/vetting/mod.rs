//! Plugin vetting: which plugin files this host agrees to run.
//!
//! A plugin runs only when its bytes are known: its sha256 is in the lock
//! file under its file name ([`Status::Locked`]), or a key of the
//! trusted-keys file signed that digest ([`Status::Signed`]). Anything else
//! is [`Status::Unvetted`], or [`Status::Altered`] when the lock names the
//! file with another digest, and is refused before a byte of it is compiled
//! unless the user passed `--allow-unvetted`. The digest is taken once, of
//! the bytes that are then compiled, so a file changed between the check
//! and the load cannot slip through.

pub mod commands;
pub mod lock;
pub mod signing;

use std::{
    fmt,
    path::{Path, PathBuf},
};

use sha2::{Digest as _, Sha256};

pub use lock::{LOCK_FILE_NAME, LockEntry, LockFile};
pub use signing::{SigningKey, TrustedKeys};

/// A sha256 digest of a plugin's bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Parses 64 lower-case hex digits.
    pub fn parse(text: &str) -> Option<Digest> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Digest(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{self}")
    }
}

/// Whether a plugin file is vetted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The lock lists its file name with this digest, or (for a file name
    /// it does not list) this digest under another name.
    Locked,
    /// A trusted key signed this digest.
    Signed {
        /// The key's id.
        key_id: String,
    },
    /// Neither the lock nor a trusted key knows it.
    Unvetted,
    /// The lock lists its file name with another digest.
    Altered {
        /// The digest the lock expects.
        expected: String,
    },
}

impl Status {
    /// `locked`, `signed`, `unvetted` or `altered`.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Locked => "locked",
            Status::Signed { .. } => "signed",
            Status::Unvetted => "unvetted",
            Status::Altered { .. } => "altered",
        }
    }

    /// Whether the plugin may run without `--allow-unvetted`.
    pub fn is_vetted(&self) -> bool {
        matches!(self, Status::Locked | Status::Signed { .. })
    }
}

/// Why vetting could not decide, or refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VettingError {
    /// A file could not be read or written.
    #[error("{file}: {what}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The lock file is malformed.
    #[error("{file}: {message}")]
    Lock {
        /// The lock file.
        file: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A key file is malformed or unsafe.
    #[error("{file}: {message}")]
    Key {
        /// The key file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Plugins that are not vetted, refused.
    #[error("{}", refusal_text(.0, .1))]
    Refused(Vec<Refusal>, PathBuf),
}

/// One refused plugin.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// The plugin file.
    pub file: PathBuf,
    /// Its digest.
    pub digest: Digest,
    /// Why.
    pub status: Status,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.status {
            Status::Altered { expected } => write!(
                f,
                "{} (sha256 {}) is altered: the lock expects sha256 {expected}",
                self.file.display(),
                self.digest
            ),
            _ => write!(
                f,
                "{} (sha256 {}) is not vetted: not in the lock and not signed by a trusted key",
                self.file.display(),
                self.digest
            ),
        }
    }
}

fn refusal_text(refused: &[Refusal], lock: &Path) -> String {
    let mut text = String::from("refusing to run plugins that are not vetted:");
    for r in refused {
        text.push_str(&format!("\n  {r}"));
    }
    text.push_str(&format!(
        "\nvet each with `inventag plugins vet FILE` (lock: {}), sign it with a trusted key, \
         or rebuild it; --allow-unvetted runs them anyway",
        lock.display()
    ));
    text
}

impl VettingError {
    pub(crate) fn io(file: &Path, what: &'static str, source: std::io::Error) -> VettingError {
        VettingError::Io { file: file.to_owned(), what, source }
    }
}

/// Where the lock and the trusted keys are, and whether unvetted plugins
/// may run.
#[derive(Clone, Debug, Default)]
pub struct VettingOptions {
    /// The lock file; `inventag-plugins.lock` in the plugin directory when
    /// `None`.
    pub lock: Option<PathBuf>,
    /// The trusted-keys file, if any.
    pub trusted_keys: Option<PathBuf>,
    /// Run unvetted and altered plugins anyway (logged, and a finding).
    pub allow_unvetted: bool,
}

impl VettingOptions {
    /// The lock file for plugins in `plugin_dir`.
    pub fn lock_path(&self, plugin_dir: &Path) -> PathBuf {
        self.lock.clone().unwrap_or_else(|| plugin_dir.join(LOCK_FILE_NAME))
    }
}

/// The vetting policy of one run: the lock and the trusted keys, read.
#[derive(Debug)]
pub struct Vetting {
    lock_path: PathBuf,
    lock: LockFile,
    keys: TrustedKeys,
    allow_unvetted: bool,
}

/// A plugin file read, digested and judged.
#[derive(Debug)]
pub struct Checked {
    /// The file.
    pub file: PathBuf,
    /// Its bytes, exactly those digested.
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: Digest,
    /// The verdict.
    pub status: Status,
}

impl Vetting {
    /// Reads the lock and the trusted keys for plugins in `plugin_dir`.
    pub fn open(plugin_dir: &Path, options: &VettingOptions) -> Result<Vetting, VettingError> {
        let lock_path = options.lock_path(plugin_dir);
        let lock = LockFile::load(&lock_path)?;
        let keys = match &options.trusted_keys {
            Some(path) => TrustedKeys::load(path)?,
            None => TrustedKeys::default(),
        };
        Ok(Vetting { lock_path, lock, keys, allow_unvetted: options.allow_unvetted })
    }

    /// The lock file in use.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// Whether unvetted plugins may run.
    pub fn allows_unvetted(&self) -> bool {
        self.allow_unvetted
    }

    /// The status of a plugin at `file` whose bytes have `digest`.
    pub fn status(&self, file: &Path, digest: &Digest) -> Status {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let entry = self.lock.entry(&name);
        // A file the lock names must have its own digest; a file it does
        // not name may be a renamed copy of a vetted one.
        let locked = match entry {
            Some(e) => e.sha256 == digest.to_string(),
            None => self.lock.has_digest(digest),
        };
        if locked {
            return Status::Locked;
        }
        if let Some(key) = self.keys.verify(&signing::signature_path(file), digest) {
            return Status::Signed { key_id: key.id.clone() };
        }
        match entry {
            Some(e) => Status::Altered { expected: e.sha256.clone() },
            None => Status::Unvetted,
        }
    }

    /// Reads and judges one plugin file.
    pub fn check(&self, file: &Path) -> Result<Checked, VettingError> {
        let bytes =
            std::fs::read(file).map_err(|e| VettingError::io(file, "cannot read the plugin", e))?;
        let digest = Digest::of(&bytes);
        let status = self.status(file, &digest);
        Ok(Checked { file: file.to_owned(), bytes, digest, status })
    }

    /// Reads and judges every file; refuses the lot when one is not vetted
    /// and unvetted plugins are not allowed.
    pub fn check_all(&self, files: &[PathBuf]) -> Result<Vec<Checked>, VettingError> {
        let checked = files.iter().map(|f| self.check(f)).collect::<Result<Vec<_>, _>>()?;
        let refused: Vec<Refusal> = checked
            .iter()
            .filter(|c| !c.status.is_vetted())
            .map(|c| Refusal { file: c.file.clone(), digest: c.digest, status: c.status.clone() })
            .collect();
        if !refused.is_empty() && !self.allow_unvetted {
            return Err(VettingError::Refused(refused, self.lock_path.clone()));
        }
        Ok(checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_is_locked_altered_signed_or_unvetted() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = dir.path().join("p.wasm");
        std::fs::write(&plugin, b"vetted bytes").unwrap();
        let digest = Digest::of(b"vetted bytes");
        let mut lock = LockFile { version: lock::LOCK_VERSION, plugins: Vec::new() };
        lock.insert(LockEntry {
            file: "p.wasm".into(),
            sha256: digest.to_string(),
            plugin: None,
            kind: None,
            vetted: None,
        });
        lock.save(&dir.path().join(LOCK_FILE_NAME)).unwrap();
        let options = VettingOptions::default();
        let vetting = Vetting::open(dir.path(), &options).unwrap();
        assert_eq!(vetting.check(&plugin).unwrap().status, Status::Locked);

        std::fs::write(&plugin, b"vetted bytez").unwrap();
        let checked = vetting.check(&plugin).unwrap();
        assert_eq!(checked.status, Status::Altered { expected: digest.to_string() });
        let e = vetting.check_all(std::slice::from_ref(&plugin)).unwrap_err().to_string();
        assert!(e.contains(&checked.digest.to_string()) && e.contains(&digest.to_string()), "{e}");
        assert!(e.contains("p.wasm"), "{e}");

        // Another vetted build put in place of a listed file is altered.
        std::fs::write(&plugin, b"new").unwrap();
        let mut swapped = LockFile::load(&dir.path().join(LOCK_FILE_NAME)).unwrap();
        swapped.insert(LockEntry {
            file: "r.wasm".into(),
            sha256: Digest::of(b"new").to_string(),
            plugin: None,
            kind: None,
            vetted: None,
        });
        swapped.save(&dir.path().join(LOCK_FILE_NAME)).unwrap();
        let vetting_swapped = Vetting::open(dir.path(), &options).unwrap();
        assert!(matches!(vetting_swapped.check(&plugin).unwrap().status, Status::Altered { .. }));
        let renamed = dir.path().join("renamed.wasm");
        std::fs::write(&renamed, b"new").unwrap();
        assert_eq!(vetting_swapped.check(&renamed).unwrap().status, Status::Locked);

        let other = dir.path().join("q.wasm");
        std::fs::write(&other, b"other").unwrap();
        assert_eq!(vetting.check(&other).unwrap().status, Status::Unvetted);
        let (key, public) = signing::generate(&dir.path().join("k"), "team").unwrap();
        std::fs::write(signing::signature_path(&other), key.sign(&Digest::of(b"other"))).unwrap();
        let options = VettingOptions { trusted_keys: Some(public), ..options };
        let vetting = Vetting::open(dir.path(), &options).unwrap();
        assert_eq!(vetting.check(&other).unwrap().status, Status::Signed { key_id: key.key_id() });
    }
}
