//! Where a run's resources wait between collection and the formatters.
//!
//! A BOM of a large organisation holds hundreds of thousands of
//! resources; kept as Rust values they would cost a couple of kilobytes
//! each. The store instead appends each accepted record, serialised, to an
//! unnamed temporary file (private to this process, gone when it exits)
//! and keeps in memory only a small index entry per record: its sort key,
//! its identity and where it lies. Sorting and removing duplicates work on
//! the index; the formatters then read the records back in order, one
//! batch at a time.
//!
//! Without a temporary directory the store keeps the records in memory,
//! and says so in the log.

use std::{fs::File, io::Write};

use super::Resource;

/// One record's place in the file.
#[derive(Debug)]
struct Entry {
    /// Account, region, service, type and id, joined by NUL.
    sort_key: Box<str>,
    /// [`Resource::identity`].
    identity: Box<str>,
    offset: u64,
    len: u32,
}

/// Why the store could not take or give back a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The temporary file failed.
    #[error("the temporary record file failed: {0}")]
    Io(#[from] std::io::Error),
    /// A record could not be encoded or decoded.
    #[error("a record could not be encoded: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// The resources of a run, on disk with an index in memory.
#[derive(Debug, Default)]
pub struct ResourceStore {
    file: Option<File>,
    /// Records kept in memory when there is no file.
    memory: Vec<Resource>,
    index: Vec<Entry>,
    end: u64,
    tried_file: bool,
}

impl ResourceStore {
    /// An empty store; the file is made on the first record.
    pub fn new() -> ResourceStore {
        ResourceStore::default()
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Adds records.
    pub fn extend(&mut self, records: Vec<Resource>) -> Result<(), StoreError> {
        if !self.tried_file {
            self.tried_file = true;
            match tempfile::tempfile() {
                Ok(f) => self.file = Some(f),
                Err(e) => tracing::warn!("no temporary file ({e}); keeping records in memory"),
            }
        }
        let mut buffer = Vec::new();
        let mut entries = Vec::with_capacity(records.len());
        for r in records {
            let sort_key = format!(
                "{}\0{}\0{}\0{}\0{}",
                r.account_id, r.region, r.service, r.resource_type, r.id
            );
            let identity = r.identity().into_boxed_str();
            match self.file {
                Some(_) => {
                    let start = buffer.len();
                    serde_json::to_writer(&mut buffer, &r)?;
                    let len = u32::try_from(buffer.len() - start).map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::InvalidData, "a record over 4 GiB")
                    })?;
                    let offset = self.end + start as u64;
                    entries.push(Entry { sort_key: sort_key.into(), identity, offset, len });
                }
                None => {
                    let offset = self.memory.len() as u64;
                    self.memory.push(r);
                    entries.push(Entry { sort_key: sort_key.into(), identity, offset, len: 0 });
                }
            }
        }
        if let Some(file) = &mut self.file {
            file.write_all(&buffer)?;
            self.end += buffer.len() as u64;
        }
        self.index.extend(entries);
        Ok(())
    }

    /// Sorts by account, region, service, type and id, and drops repeats
    /// of one identity, keeping the first. Returns how many were dropped.
    pub fn normalise(&mut self) -> usize {
        self.index.sort_by(|a, b| a.sort_key.cmp(&b.sort_key));
        let before = self.index.len();
        let mut seen = std::collections::HashSet::new();
        self.index.retain(|e| seen.insert(e.identity.clone()));
        before - self.index.len()
    }

    /// The records in order, `size` at a time.
    pub fn batches(
        &self,
        size: usize,
    ) -> impl Iterator<Item = Result<Vec<Resource>, StoreError>> + '_ {
        self.index
            .chunks(size.max(1))
            .map(move |chunk| chunk.iter().map(|e| self.read(e)).collect::<Result<Vec<_>, _>>())
    }

    fn read(&self, e: &Entry) -> Result<Resource, StoreError> {
        let Some(file) = &self.file else {
            return Ok(self.memory[e.offset as usize].clone());
        };
        let mut buf = vec![0; e.len as usize];
        read_at(file, &mut buf, e.offset)?;
        Ok(serde_json::from_slice(&buf)?)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bom::Tag;

    fn resource(account: &str, id: &str, arn: Option<&str>) -> Resource {
        Resource {
            account_id: account.into(),
            region: "us-east-1".into(),
            service: "ec2".into(),
            resource_type: "instance".into(),
            id: id.into(),
            arn: arn.map(Into::into),
            name: Some("ünïcødé\nname".into()),
            state: None,
            created_at: None,
            tags: vec![Tag { key: "k".into(), value: String::new() }],
            attributes: r#"{"a":1}"#.into(),
        }
    }

    #[test]
    fn records_come_back_sorted_deduplicated_and_intact() {
        let mut store = ResourceStore::new();
        store.extend(vec![resource("2", "b", Some("arn:x")), resource("1", "z", None)]).unwrap();
        store.extend(vec![resource("2", "a", Some("arn:x")), resource("1", "y", None)]).unwrap();
        assert_eq!(store.normalise(), 1);
        let all: Vec<Resource> = store.batches(2).collect::<Result<Vec<_>, _>>().unwrap().concat();
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["y", "z", "a"]);
        assert_eq!(all[0], resource("1", "y", None));
    }
}
