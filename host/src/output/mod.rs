//! Output: writes formatter documents into one directory through a
//! capability handle (cap-std), so that no name a plugin influences can
//! reach outside it. Files are named `inventag-bom-<UTC timestamp>.<ext>`
//! and never overwrite an existing file. The audit log and the compliance
//! report go through the same door, as `inventag-audit-<stamp>.jsonl` and
//! `inventag-compliance-<stamp>.json`.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use cap_std::{ambient_authority, fs::Dir};

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The output directory could not be created or opened.
    #[error("{dir}: cannot use as the output directory: {reason}")]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The file could not be written.
    #[error("{file}: cannot write: {reason}")]
    Write {
        /// The file.
        file: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The extension is not plain.
    #[error("the extension {0:?} is not 1 to 3 dot-separated runs of letters or digits")]
    Extension(String),
}

/// Whether `extension` is plain: at most 16 characters, one to three
/// non-empty runs of ASCII letters and digits joined by dots (`json`,
/// `cdx.json`). Nothing else, so no name built from it can leave the
/// output directory or hide as another file.
pub fn valid_extension(extension: &str) -> bool {
    extension.len() <= 16
        && extension.split('.').count() <= 3
        && extension
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The output directory.
pub struct OutputDir {
    path: PathBuf,
    dir: Dir,
}

impl OutputDir {
    /// Creates `path` if needed and opens it.
    pub fn open(path: &Path) -> Result<OutputDir, OutputError> {
        let fail = |reason| OutputError::Dir { dir: path.to_owned(), reason };
        std::fs::create_dir_all(path).map_err(fail)?;
        let dir = Dir::open_ambient_dir(path, ambient_authority()).map_err(fail)?;
        Ok(OutputDir { path: path.to_owned(), dir })
    }

    /// Writes `bytes` as `inventag-bom-<stamp>.<extension>`, adding `-2`,
    /// `-3`, ... when that name is taken. Returns the path written.
    pub fn write(
        &self,
        stamp: &str,
        extension: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, OutputError> {
        self.write_kind(FileKind::Bom, stamp, extension, bytes)
    }

    /// Writes `bytes` as `<kind>-<stamp>.<extension>`, never overwriting.
    pub fn write_kind(
        &self,
        kind: FileKind,
        stamp: &str,
        extension: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, OutputError> {
        let (file_path, mut file) = self.create(kind, stamp, extension)?;
        let fail = |reason| OutputError::Write { file: file_path.clone(), reason };
        file.write_all(bytes).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        Ok(file_path)
    }

    /// Creates `<kind>-<stamp>.<extension>` (with `-2`, `-3`, ... when the
    /// name is taken) and returns it open for writing.
    pub fn create(
        &self,
        kind: FileKind,
        stamp: &str,
        extension: &str,
    ) -> Result<(PathBuf, std::fs::File), OutputError> {
        if !valid_extension(extension) {
            return Err(OutputError::Extension(extension.to_owned()));
        }
        let mut options = cap_std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let mut last = None;
        for name in names(kind, stamp, extension) {
            let file_path = self.path.join(&name);
            match self.dir.open_with(&name, &options) {
                Ok(file) => return Ok((file_path, file.into_std())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(file_path),
                Err(reason) => return Err(OutputError::Write { file: file_path, reason }),
            }
        }
        Err(taken(last.unwrap_or_else(|| self.path.clone())))
    }

    /// Starts a document of `kind` whose extension is not known yet: its
    /// bytes go to a hidden file in the directory, which
    /// [`PendingFile::commit`] names, or which is removed if it is dropped
    /// uncommitted.
    pub fn begin(&self, kind: FileKind, stamp: &str) -> Result<PendingFile, OutputError> {
        let clean: String = stamp.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let mut options = cap_std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        let fail = |reason| OutputError::Dir { dir: self.path.clone(), reason };
        for n in 1..1000 {
            let name = format!(".{}-{clean}-{n}.partial", kind.prefix());
            match self.dir.open_with(&name, &options) {
                Ok(file) => {
                    return Ok(PendingFile {
                        dir: self.dir.try_clone().map_err(fail)?,
                        path: self.path.clone(),
                        kind,
                        stamp: stamp.to_owned(),
                        temp: name,
                        file: Some(file.into_std()),
                        written: 0,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(reason) => return Err(fail(reason)),
            }
        }
        Err(taken(self.path.join(format!(".{}-{clean}.partial", kind.prefix()))))
    }
}

/// The names a file of `kind` may take, in order of preference:
/// `<prefix>-<stamp>.<ext>`, then `-2`, `-3`, ... up to `-999`.
fn names(kind: FileKind, stamp: &str, extension: &str) -> impl Iterator<Item = String> {
    let prefix = kind.prefix();
    let stamp: String = stamp.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let extension = extension.to_owned();
    (1..1000).map(move |n| match n {
        1 => format!("{prefix}-{stamp}.{extension}"),
        n => format!("{prefix}-{stamp}-{n}.{extension}"),
    })
}

fn taken(file: PathBuf) -> OutputError {
    OutputError::Write {
        file,
        reason: std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "999 files of this name exist",
        ),
    }
}

/// A document being written whose name is not settled yet; see
/// [`OutputDir::begin`].
pub struct PendingFile {
    dir: Dir,
    path: PathBuf,
    kind: FileKind,
    stamp: String,
    /// The hidden name it is written under.
    temp: String,
    /// `None` once committed.
    file: Option<std::fs::File>,
    written: u64,
}

impl std::fmt::Debug for PendingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFile")
            .field("file", &self.path.join(&self.temp))
            .field("written", &self.written)
            .finish()
    }
}

impl PendingFile {
    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        let fail = |reason| OutputError::Write { file: self.path.join(&self.temp), reason };
        let file = self.file.as_mut().ok_or_else(|| {
            fail(std::io::Error::new(std::io::ErrorKind::Other, "already committed"))
        })?;
        file.write_all(bytes).map_err(fail)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// How many bytes were written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes the file to disk and gives it its name,
    /// `<kind>-<stamp>.<extension>` (with `-2`, `-3`, ... when the name is
    /// taken; an existing file is never replaced). Returns the path.
    pub fn commit(mut self, extension: &str) -> Result<PathBuf, OutputError> {
        if !valid_extension(extension) {
            return Err(OutputError::Extension(extension.to_owned()));
        }
        let temp_path = self.path.join(&self.temp);
        if let Some(file) = self.file.take() {
            file.sync_all()
                .map_err(|reason| OutputError::Write { file: temp_path.clone(), reason })?;
        }
        let mut last = None;
        for name in names(self.kind, &self.stamp, extension) {
            let file_path = self.path.join(&name);
            // A hard link fails when the name exists, where a rename would
            // replace the file; the hidden name is removed after.
            match self.dir.hard_link(&self.temp, &self.dir, &name) {
                Ok(()) => {
                    let _ = self.dir.remove_file(&self.temp);
                    self.temp.clear();
                    return Ok(file_path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(file_path),
                Err(reason) => return Err(OutputError::Write { file: file_path, reason }),
            }
        }
        Err(taken(last.unwrap_or(temp_path)))
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.temp.is_empty() {
            self.file = None;
            let _ = self.dir.remove_file(&self.temp);
        }
    }
}

/// What a file of the output directory holds, which names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A formatter's document: `inventag-bom-*`.
    Bom,
    /// The audit log: `inventag-audit-*`.
    Audit,
    /// The compliance report: `inventag-compliance-*`.
    Compliance,
}

impl FileKind {
    fn prefix(self) -> &'static str {
        match self {
            FileKind::Bom => "inventag-bom",
            FileKind::Audit => "inventag-audit",
            FileKind::Compliance => "inventag-compliance",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_collide_or_escape() {
        let tmp = tempfile::tempdir().unwrap();
        let out = OutputDir::open(&tmp.path().join("bom")).unwrap();
        let a = out.write("2026-12-04T15:00:00Z", "json", b"{}").unwrap();
        let b = out.write("2026-12-04T15:00:00Z", "json", b"[]").unwrap();
        assert_eq!(a.file_name().unwrap(), "inventag-bom-20261204T150000Z.json");
        assert_eq!(b.file_name().unwrap(), "inventag-bom-20261204T150000Z-2.json");
        assert_eq!(std::fs::read(&a).unwrap(), b"{}");
        assert!(out.write("x/../../y", "json", b"").unwrap().starts_with(tmp.path().join("bom")));
        assert!(matches!(out.write("x", "../json", b""), Err(OutputError::Extension(_))));
        let audit = out.write_kind(FileKind::Audit, "2026-12-04T15:00:00Z", "jsonl", b"").unwrap();
        assert_eq!(audit.file_name().unwrap(), "inventag-audit-20261204T150000Z.jsonl");
        let cdx = out.write("2026-12-04T15:00:00Z", "cdx.json", b"{}").unwrap();
        assert_eq!(cdx.file_name().unwrap(), "inventag-bom-20261204T150000Z.cdx.json");
        for bad in ["", ".json", "json.", "a..b", "a.b.c.d", "x/y", "toolongextension1"] {
            assert!(!valid_extension(bad), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_pending_file_is_named_on_commit_and_gone_when_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let out = OutputDir::open(tmp.path()).unwrap();
        let listing = || {
            let mut names: Vec<String> = std::fs::read_dir(tmp.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        let taken = out.write("2026-12-04T15:00:00Z", "json", b"first").unwrap();

        let mut doc = out.begin(FileKind::Bom, "2026-12-04T15:00:00Z").unwrap();
        doc.write(b"{\"a\":").unwrap();
        doc.write(b"1}").unwrap();
        assert_eq!(doc.written(), 7);
        assert_eq!(listing().len(), 2, "the document is hidden until committed");
        let path = doc.commit("json").unwrap();
        assert_eq!(path.file_name().unwrap(), "inventag-bom-20261204T150000Z-2.json");
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}");
        assert_eq!(std::fs::read(&taken).unwrap(), b"first", "an existing file is kept");

        let mut lost = out.begin(FileKind::Bom, "2026-12-04T15:00:00Z").unwrap();
        lost.write(b"partial").unwrap();
        drop(lost);
        assert_eq!(
            listing(),
            ["inventag-bom-20261204T150000Z-2.json", "inventag-bom-20261204T150000Z.json"]
        );
        let bad = out.begin(FileKind::Bom, "x").unwrap();
        assert!(matches!(bad.commit("../x"), Err(OutputError::Extension(_))));
        assert_eq!(listing().len(), 2);
    }
}
