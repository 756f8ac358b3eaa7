//! The cache of precompiled components, so that a run compiles a plugin
//! only the first time this engine sees its bytes.
//!
//! An entry is one file, `<component sha256>-<engine hash>.cwasm`, written
//! by the host alone: the first line is `inventag-cwasm-v2 <sha256 of the
//! component> <sha256 of the rest>`, the rest is what wasmtime's
//! `Component::serialize` produced.
//! The engine hash is taken from `Engine::precompile_compatibility_hash`,
//! so a new wasmtime or other engine settings never read an old entry.
//!
//! Loading an entry is `unsafe` in wasmtime: the bytes are trusted to be
//! native code wasmtime wrote. It is sound here because every entry is
//! checked before use: the directory and the file must belong to this user
//! and be writable by no one else (so only this user, which is the host,
//! can have written them), the entry is named by the digest of the
//! component it was compiled from (which the caller digested and vetted),
//! and its first line must name that same component and the digest of the
//! entry's own contents, so a torn or damaged write, or another plugin's
//! entry copied under this name, is compiled afresh rather than run. Entries
//! are written to a temporary file in the directory and renamed into
//! place, so a reader sees a whole entry or none.

use std::{
    hash::{Hash, Hasher},
    io::Write,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use sha2::{Digest as _, Sha256};
use wasmtime::{Engine, component::Component};

use crate::vetting::Digest;

const HEADER: &str = "inventag-cwasm-v2";

/// Why the cache directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The directory could not be created or read.
    #[error(
        "{dir}: cannot use as the component cache: {source} (choose another with \
         --plugin-cache DIR, or run with --no-plugin-cache)"
    )]
    Io {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The directory or an entry is unsafe to load code from.
    #[error(
        "{path}: {why}; the component cache must be a directory only you can write \
         (fix it, choose another with --plugin-cache DIR, or run with --no-plugin-cache)"
    )]
    Unsafe {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// A directory of precompiled components.
#[derive(Debug)]
pub struct ComponentCache {
    dir: PathBuf,
    engine_key: String,
    hits: AtomicU64,
    compiled: AtomicU64,
}

/// Feeds a `Hash` into sha256, for a digest that is stable across runs.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

impl ComponentCache {
    /// The default directory: `$XDG_CACHE_HOME/inventag/components`, else
    /// `~/.cache/inventag/components`; `None` without either variable.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("inventag").join("components"))
    }

    /// Opens `dir` for `engine`, creating it mode 700 if missing, and
    /// refuses it if another user owns it or others may write it.
    pub fn open(dir: &Path, engine: &Engine) -> Result<ComponentCache, CacheError> {
        let io = |source| CacheError::Io { dir: dir.to_owned(), source };
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(io)?;
        }
        let meta = std::fs::symlink_metadata(dir).map_err(io)?;
        if !meta.is_dir() {
            return Err(CacheError::Unsafe {
                path: dir.to_owned(),
                why: "is not a directory (a symbolic link is refused too)".into(),
            });
        }
        check_owner(dir, &meta)?;
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex::encode(&hasher.0.finalize()[..8]);
        Ok(ComponentCache {
            dir: dir.to_owned(),
            engine_key,
            hits: AtomicU64::new(0),
            compiled: AtomicU64::new(0),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Components loaded from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Components compiled (and stored) so far.
    pub fn compiled(&self) -> u64 {
        self.compiled.load(Ordering::Relaxed)
    }

    fn entry(&self, digest: &Digest) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_key))
    }

    /// The component of `bytes` (whose digest is `digest`): from the cache
    /// when a sound entry is there, else compiled and stored. Blocking.
    pub fn component(
        &self,
        engine: &Engine,
        digest: &Digest,
        bytes: &[u8],
    ) -> Result<Component, String> {
        let path = self.entry(digest);
        match self.read(&path, digest) {
            Ok(Some(native)) => {
                // SAFETY: `read` returned the body of an entry this user
                // alone could have written, named by the digest of the
                // component the caller vetted, whose own digest matched;
                // see the module documentation.
                match unsafe { Component::deserialize(engine, &native) } {
                    Ok(component) => {
                        self.hits.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(entry = %path.display(), "component loaded from the cache");
                        return Ok(component);
                    }
                    Err(e) => tracing::warn!(
                        entry = %path.display(),
                        "a cached component did not load; compiling afresh: {e:#}"
                    ),
                }
            }
            Ok(None) => {}
            Err(why) => tracing::warn!("{why}; compiling afresh"),
        }
        let component = Component::new(engine, bytes)
            .map_err(|e| format!("not a valid WebAssembly component: {e:#}"))?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        match component.serialize() {
            Ok(native) => {
                if let Err(e) = self.write(&path, digest, &native) {
                    tracing::warn!(entry = %path.display(), "cannot store a compiled component: {e}");
                } else {
                    tracing::debug!(entry = %path.display(), "component compiled and cached");
                }
            }
            Err(e) => tracing::warn!("cannot serialise a compiled component: {e:#}"),
        }
        Ok(component)
    }

    /// The native body of a sound entry compiled from the component whose
    /// digest is `source`; `None` when there is none, or it is damaged or
    /// was compiled from another component; an error when it is unsafe.
    fn read(&self, path: &Path, source: &Digest) -> Result<Option<Vec<u8>>, CacheError> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(_) => return Ok(None),
        };
        if !meta.is_file() {
            return Err(CacheError::Unsafe { path: path.to_owned(), why: "is not a file".into() });
        }
        check_owner(path, &meta)?;
        let Ok(data) = std::fs::read(path) else { return Ok(None) };
        let Some(newline) = data.iter().position(|&b| b == b'\n') else { return Ok(None) };
        let (head, body) = (&data[..newline], &data[newline + 1..]);
        // The header binds the entry to its source component as well as to
        // its own bytes: a sound entry of another plugin copied under this
        // name is not this plugin.
        let expected = format!("{HEADER} {source} {}", Digest::of(body));
        if head != expected.as_bytes() {
            tracing::warn!(
                entry = %path.display(),
                "a cached component is damaged or belongs to another component; compiling afresh"
            );
            return Ok(None);
        }
        Ok(Some(body.to_vec()))
    }

    fn write(&self, path: &Path, source: &Digest, native: &[u8]) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(format!("{HEADER} {source} {}\n", Digest::of(native)).as_bytes())?;
        tmp.write_all(native)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Refuses a path owned by another user or writable by group or others.
fn check_owner(path: &Path, meta: &std::fs::Metadata) -> Result<(), CacheError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(CacheError::Unsafe {
                path: path.to_owned(),
                why: format!("belongs to user {}, not to this user ({me})", meta.uid()),
            });
        }
        if meta.mode() & 0o022 != 0 {
            return Err(CacheError::Unsafe {
                path: path.to_owned(),
                why: format!("is writable by group or others (mode {:o})", meta.mode() & 0o777),
            });
        }
    }
    let _ = (path, meta);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_cache_dir_others_can_write_is_refused_and_a_new_one_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let engine = Engine::default();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/components");
        ComponentCache::open(&dir, &engine).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = ComponentCache::open(&dir, &engine).unwrap_err().to_string();
        assert!(e.contains("writable by group or others"), "{e}");
    }

    #[test]
    fn a_damaged_entry_is_compiled_afresh() {
        let engine = Engine::default();
        let tmp = tempfile::tempdir().unwrap();
        let cache = ComponentCache::open(tmp.path(), &engine).unwrap();
        // The smallest component: the magic number and the component layer.
        let empty: &[u8] = b"\0asm\x0d\x00\x01\x00";
        let digest = Digest::of(empty);
        cache.component(&engine, &digest, empty).unwrap();
        cache.component(&engine, &digest, empty).unwrap();
        assert_eq!((cache.compiled(), cache.hits()), (1, 1));
        let entry = cache.entry(&digest);
        let mut data = std::fs::read(&entry).unwrap();
        let last = data.len() - 1;
        data[last] ^= 1;
        std::fs::write(&entry, data).unwrap();
        cache.component(&engine, &digest, empty).unwrap();
        assert_eq!((cache.compiled(), cache.hits()), (2, 1));
    }

    #[test]
    fn an_entry_of_another_component_is_not_taken_for_this_one() {
        let engine = Engine::default();
        let tmp = tempfile::tempdir().unwrap();
        let cache = ComponentCache::open(tmp.path(), &engine).unwrap();
        let empty: &[u8] = b"\0asm\x0d\x00\x01\x00";
        let (first, second) = (Digest::of(empty), Digest::of(b"another component"));
        cache.component(&engine, &first, empty).unwrap();
        std::fs::copy(cache.entry(&first), cache.entry(&second)).unwrap();
        cache.component(&engine, &second, empty).unwrap();
        assert_eq!((cache.compiled(), cache.hits()), (2, 0), "the copied entry was used");
    }
}
