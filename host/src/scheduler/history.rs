//! The call history: how many AWS calls each collector part made in one
//! target, the most of any target of the last run that ran it. The
//! scheduler starts the parts that made the longest chains of calls first,
//! as build tools start the jobs that took longest last time, so a run
//! does not end waiting on a long chain that happened to start last.
//!
//! The history is a hint for ordering and nothing else. It lives beside
//! the component cache (`call-history.json`, private to the user); a
//! missing, unreadable or damaged file means the plan's own order, and a
//! file that cannot be written is logged and dropped. It holds collector
//! and part names with counts: no account, region or resource.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Read,
    path::{Path, PathBuf},
};

/// The file's name in the cache directory.
const FILE: &str = "call-history.json";

/// A larger file is not ours: ignored.
const MAX_BYTES: u64 = 1 << 20;

/// Calls per target, by `collector/part`.
#[derive(Debug, Default)]
pub struct CallHistory {
    path: Option<PathBuf>,
    calls: BTreeMap<String, u32>,
}

/// The history key of a collector's part (`-` for a collector without
/// parts).
pub fn key(collector: &str, part: Option<&str>) -> String {
    format!("{collector}/{}", part.unwrap_or("-"))
}

impl CallHistory {
    /// No history: the plan's order, nothing saved.
    pub fn none() -> CallHistory {
        CallHistory::default()
    }

    /// The history kept in `dir`, empty when there is none or it cannot
    /// be read.
    pub fn load(dir: &Path) -> CallHistory {
        let path = dir.join(FILE);
        let calls = match read(&path) {
            Ok(calls) => calls,
            Err(why) => {
                tracing::debug!(file = %path.display(), %why, "no call history; plan order");
                BTreeMap::new()
            }
        };
        CallHistory { path: Some(path), calls }
    }

    /// The calls one target of this part made last time, if known.
    pub fn expected(&self, key: &str) -> Option<u32> {
        self.calls.get(key).copied()
    }

    /// Takes this run's counts (the most per target, by key). `known` is
    /// every key this run could have produced (the loaded collectors'
    /// parts): a part not collected this time keeps its count, and any
    /// other key (a collector no longer loaded, or something that is not a
    /// part's name at all) is dropped, so the file holds nothing but the
    /// names of today's collectors and parts.
    pub fn update(&mut self, observed: BTreeMap<String, u32>, known: &BTreeSet<String>) {
        if known.is_empty() {
            return;
        }
        self.calls.retain(|key, _| known.contains(key));
        self.calls.extend(observed.into_iter().filter(|(key, _)| known.contains(key)));
    }

    /// Writes the history back, replacing the file whole.
    pub fn save(&self) {
        let Some(path) = &self.path else { return };
        if let Err(why) = write(path, &self.calls) {
            tracing::debug!(file = %path.display(), %why, "could not keep the call history");
        }
    }
}

fn read(path: &Path) -> Result<BTreeMap<String, u32>, String> {
    // Looked at before it is opened: a link or a pipe put here is not
    // followed or waited on.
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return Err("not a small regular file".into());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(MAX_BYTES).read_to_string(&mut text).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn write(path: &Path, calls: &BTreeMap<String, u32>) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut tmp, calls)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_history_is_read_back_and_updated_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = CallHistory::load(dir.path());
        assert_eq!(history.expected(&key("s3", Some("bucket"))), None);
        let known: BTreeSet<String> = ["s3/bucket", "iam/-"].map(String::from).into();
        history.update(
            BTreeMap::from([(key("s3", Some("bucket")), 9), (key("iam", None), 4)]),
            &known,
        );
        history.save();

        let mut again = CallHistory::load(dir.path());
        assert_eq!(again.expected("s3/bucket"), Some(9));
        again.update(BTreeMap::from([(key("s3", Some("bucket")), 3)]), &known);
        assert_eq!(again.expected("s3/bucket"), Some(3), "the last run's count wins");
        assert_eq!(again.expected("iam/-"), Some(4), "parts not run keep theirs");
    }

    #[test]
    fn only_the_loaded_collectors_parts_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let planted = br#"{"s3/bucket": 9, "111111111111/us-east-1": 7, "arn:aws:s3:::b": 3}"#;
        std::fs::write(dir.path().join(FILE), planted).unwrap();
        let mut history = CallHistory::load(dir.path());
        let known: BTreeSet<String> = ["s3/bucket", "kms/key"].map(String::from).into();
        history.update(BTreeMap::from([("not/a-part".to_owned(), 5)]), &known);
        history.save();
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text, r#"{"s3/bucket":9}"#);
    }

    #[cfg(unix)]
    #[test]
    fn a_history_that_is_a_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere.json");
        std::fs::write(&elsewhere, b"{\"s3/bucket\": 9}").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(FILE)).unwrap();
        assert_eq!(CallHistory::load(dir.path()).expected("s3/bucket"), None);
    }

    #[test]
    fn a_damaged_history_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{\"s3/bucket\": \"many\"").unwrap();
        let history = CallHistory::load(dir.path());
        assert_eq!(history.expected("s3/bucket"), None);
    }
}
