//! Ed25519 signatures over a plugin's sha256, so a team can sign its own
//! builds once and have every host that trusts its key accept them without
//! a lock entry.
//!
//! Three small text files:
//!
//! - the private key (`inventag plugins keygen --out KEY`), created mode
//!   600: `inventag-ed25519-private-v1` and the PKCS#8 document in base64.
//!   It is a secret: nothing prints, logs or shows it in `Debug`;
//! - the public key, `KEY.pub`, one line that goes into a trusted-keys
//!   file as it is: `ed25519 <base64 public key> <comment>`;
//! - the signature, `FILE.wasm.sig` beside the plugin:
//!   `inventag-signature-v1 ed25519 <key id> <base64 signature>`.
//!
//! What is signed is the text `inventag-plugin sha256:<digest>`: the
//! digest names the exact bytes, and the prefix keeps the signature from
//! meaning anything else. The key id is the first 16 hex digits of the
//! sha256 of the public key. The cryptography is aws-lc-rs, which the
//! host already uses for TLS.

use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey},
};
use base64::{Engine as _, engine::general_purpose::STANDARD as B64};
use sha2::{Digest as _, Sha256};

use super::{Digest, VettingError};

const PRIVATE_HEADER: &str = "inventag-ed25519-private-v1";
const SIGNATURE_HEADER: &str = "inventag-signature-v1";

/// The message signed for a plugin of `digest`.
fn message(digest: &Digest) -> String {
    format!("inventag-plugin sha256:{digest}")
}

/// The id of a public key: 16 hex digits of its sha256.
pub fn key_id(public: &[u8]) -> String {
    hex::encode(&Sha256::digest(public)[..8])
}

/// A private signing key. Its `Debug` shows the key id only.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("key_id", &self.key_id()).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The id of its public key.
    pub fn key_id(&self) -> String {
        key_id(self.pair.public_key().as_ref())
    }

    /// The trusted-keys line of its public key.
    pub fn public_line(&self, comment: &str) -> String {
        let comment: String = comment.chars().filter(|c| !c.is_control()).collect();
        let line = format!("ed25519 {} {comment}", B64.encode(self.pair.public_key().as_ref()));
        line.trim_end().to_owned()
    }

    /// Reads a private key file written by [`generate`].
    pub fn load(path: &Path) -> Result<SigningKey, VettingError> {
        let bad = |message: &str| VettingError::Key {
            file: path.to_owned(),
            message: message.to_owned(),
        };
        check_private_mode(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| VettingError::io(path, "cannot read the key", e))?;
        let mut lines = text.lines();
        if lines.next() != Some(PRIVATE_HEADER) {
            return Err(bad("is not an inventag private key (made by `inventag plugins keygen`)"));
        }
        let der = lines
            .next()
            .and_then(|l| B64.decode(l.trim()).ok())
            .ok_or_else(|| bad("holds no key after its first line"))?;
        let pair = Ed25519KeyPair::from_pkcs8(&der).map_err(|_| bad("holds a damaged key"))?;
        Ok(SigningKey { pair })
    }

    /// The detached signature file's text for a plugin of `digest`.
    pub fn sign(&self, digest: &Digest) -> String {
        let signature = self.pair.sign(message(digest).as_bytes());
        format!("{SIGNATURE_HEADER} ed25519 {} {}\n", self.key_id(), B64.encode(signature.as_ref()))
    }
}

/// Makes a new key pair: the private key at `path` (created, never
/// overwritten, mode 600) and the public key at `path.pub`.
pub fn generate(path: &Path, comment: &str) -> Result<(SigningKey, PathBuf), VettingError> {
    let fail = |e: std::io::Error| VettingError::io(path, "cannot create the key", e);
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| {
        VettingError::Key { file: path.to_owned(), message: "no randomness to make a key".into() }
    })?;
    let pair = Ed25519KeyPair::from_pkcs8(document.as_ref()).map_err(|_| VettingError::Key {
        file: path.to_owned(),
        message: "the new key did not read back".into(),
    })?;
    let key = SigningKey { pair };
    let public = PathBuf::from(format!("{}.pub", path.display()));
    // Neither file is ever written through or over an existing name (a
    // symbolic link included), and the public one is checked first so a
    // refusal leaves no private key behind.
    if std::fs::symlink_metadata(&public).is_ok() {
        return Err(VettingError::io(
            &public,
            "cannot write the public key",
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the file exists"),
        ));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    let text = format!("{PRIVATE_HEADER}\n{}\n", B64.encode(document.as_ref()));
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(fail)?;
    let mut public_options = std::fs::OpenOptions::new();
    public_options.write(true).create_new(true);
    public_options
        .open(&public)
        .and_then(|mut f| f.write_all(format!("{}\n", key.public_line(comment)).as_bytes()))
        .map_err(|e| VettingError::io(&public, "cannot write the public key", e))?;
    Ok((key, public))
}

/// Refuses a private key that others may read.
fn check_private_mode(path: &Path) -> Result<(), VettingError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| VettingError::io(path, "cannot read the key", e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(VettingError::Key {
                file: path.to_owned(),
                message: format!(
                    "is readable by group or others (mode {:o}); run `chmod 600 {}`",
                    meta.permissions().mode() & 0o777,
                    path.display()
                ),
            });
        }
    }
    Ok(())
}

/// One trusted public key.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// The key id.
    pub id: String,
    /// The comment after the key, if any.
    pub comment: String,
    public: Vec<u8>,
}

/// The keys whose signatures are accepted.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    /// Reads a trusted-keys file: one `ed25519 <base64> [comment]` per
    /// line; blank lines and `#` comments are skipped.
    pub fn load(path: &Path) -> Result<TrustedKeys, VettingError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| VettingError::io(path, "cannot read the trusted keys", e))?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.splitn(3, char::is_whitespace);
            let (kind, key) = (words.next(), words.next());
            let public = match (kind, key.map(|k| B64.decode(k))) {
                (Some("ed25519"), Some(Ok(public))) if public.len() == 32 => public,
                _ => {
                    return Err(VettingError::Key {
                        file: path.to_owned(),
                        message: format!(
                            "line {}: expected `ed25519 <base64 public key> [comment]`",
                            n + 1
                        ),
                    });
                }
            };
            let comment = words.next().unwrap_or_default().trim().to_owned();
            keys.push(TrustedKey { id: key_id(&public), comment, public });
        }
        Ok(TrustedKeys { keys })
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The trusted key that signed a plugin of `digest`, if the signature
    /// file beside it holds a valid signature by one.
    pub fn verify(&self, signature_file: &Path, digest: &Digest) -> Option<&TrustedKey> {
        if self.keys.is_empty() {
            return None;
        }
        let text = std::fs::read_to_string(signature_file).ok()?;
        let mut words = text.split_whitespace();
        if (words.next(), words.next()) != (Some(SIGNATURE_HEADER), Some("ed25519")) {
            return None;
        }
        let (id, signature) = (words.next()?, B64.decode(words.next()?).ok()?);
        let key = self.keys.iter().find(|k| k.id == id)?;
        UnparsedPublicKey::new(&ED25519, &key.public)
            .verify(message(digest).as_bytes(), &signature)
            .ok()
            .map(|()| key)
    }
}

/// The signature file of a plugin: `FILE.sig`.
pub fn signature_path(plugin: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sig", plugin.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_its_key_only_and_only_for_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = generate(&dir.path().join("team.key"), "team builds").unwrap();
        let (other, _) = generate(&dir.path().join("other.key"), "").unwrap();
        assert!(!format!("{key:?}").contains("MC4CAQ"), "Debug shows the key");
        let trusted = TrustedKeys::load(&public).unwrap();
        let digest = Digest::of(b"plugin bytes");
        let sig = dir.path().join("p.wasm.sig");

        std::fs::write(&sig, key.sign(&digest)).unwrap();
        assert_eq!(trusted.verify(&sig, &digest).unwrap().comment, "team builds");
        assert!(trusted.verify(&sig, &Digest::of(b"other bytes")).is_none());
        std::fs::write(&sig, other.sign(&digest)).unwrap();
        assert!(trusted.verify(&sig, &digest).is_none());

        let reloaded = SigningKey::load(&dir.path().join("team.key")).unwrap();
        assert_eq!(reloaded.key_id(), key.key_id());
        assert!(generate(&dir.path().join("team.key"), "").is_err(), "a key was overwritten");
    }

    #[cfg(unix)]
    #[test]
    fn a_private_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        generate(&path, "").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SigningKey::load(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
