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
//! One ARN is one resource. The `tagging` collector reports every tagged
//! ARN of a region, most of which a service collector reports too; such a
//! record (attribute `found_by` = `tagging`) gives way to the service
//! collector's record, lending it the tags it lacks. Those tags wait in a
//! small side map keyed by the record's place in the file, applied as the
//! record is read back, so the file is never rewritten and memory grows
//! only with the records that need merging.
//!
//! Without a temporary directory the store keeps the records in memory,
//! and says so in the log.

use std::{
    collections::{HashMap, HashSet},
    fs::File,
    io::Write,
};

use super::{Resource, Tag};

/// The attribute naming how a record was found, and its value for records
/// of the tagging collector.
const FOUND_BY: &str = "found_by";
const FOUND_BY_TAGGING: &str = "tagging";

/// One record's place in the file.
#[derive(Debug)]
struct Entry {
    /// Account, region, service, type and id, joined by NUL.
    sort_key: Box<str>,
    /// [`Resource::identity`].
    identity: Box<str>,
    offset: u64,
    len: u32,
    /// Found by the tagging collector rather than a service collector.
    tagging: bool,
}

/// What [`ResourceStore::normalise`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Normalised {
    /// Records dropped as repeats of an identity already kept, tagging
    /// records merged into a service collector's record included.
    pub dropped: usize,
    /// Service collectors' records that took tags from a tagging record.
    pub merged: usize,
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
    /// Tags to add to a record as it is read back, by its entry's offset:
    /// those a tagging record held and the service collector's lacked.
    overlays: HashMap<u64, Vec<Tag>>,
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
            let tagging = found_by_tagging(&r);
            match self.file {
                Some(_) => {
                    let start = buffer.len();
                    serde_json::to_writer(&mut buffer, &r)?;
                    let len = u32::try_from(buffer.len() - start).map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::InvalidData, "a record over 4 GiB")
                    })?;
                    let offset = self.end + start as u64;
                    entries.push(Entry {
                        sort_key: sort_key.into(),
                        identity,
                        offset,
                        len,
                        tagging,
                    });
                }
                None => {
                    let offset = self.memory.len() as u64;
                    self.memory.push(r);
                    entries.push(Entry {
                        sort_key: sort_key.into(),
                        identity,
                        offset,
                        len: 0,
                        tagging,
                    });
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

    /// Sorts by account, region, service, type and id, and keeps one record
    /// per identity: the first service collector's record, with the tags
    /// only a tagging record of the same ARN reported merged in (by key; the
    /// collector's values win), else the first tagging record.
    pub fn normalise(&mut self) -> Result<Normalised, StoreError> {
        self.index.sort_by(|a, b| a.sort_key.cmp(&b.sort_key));

        // The entry kept for each identity, and the tagging entries whose
        // tags go to another entry.
        let mut keep = vec![false; self.index.len()];
        let mut lenders: Vec<(usize, usize)> = Vec::new();
        {
            let mut chosen: HashMap<&str, usize> = HashMap::new();
            let mut tagging: Vec<usize> = Vec::new();
            for (i, e) in self.index.iter().enumerate() {
                if e.tagging {
                    tagging.push(i);
                    continue;
                }
                if let std::collections::hash_map::Entry::Vacant(v) = chosen.entry(&e.identity) {
                    v.insert(i);
                    keep[i] = true;
                }
            }
            for i in tagging {
                match chosen.get(&*self.index[i].identity) {
                    Some(&kept) => lenders.push((kept, i)),
                    None => {
                        chosen.insert(&self.index[i].identity, i);
                        keep[i] = true;
                    }
                }
            }
        }

        let mut merged = HashSet::new();
        for (kept, lender) in lenders {
            let offset = self.index[kept].offset;
            // The kept record as merged so far: a second tagging record of
            // one ARN adds only what neither earlier source had.
            let record = self.read(&self.index[kept])?;
            let extra: Vec<Tag> = self
                .read_stored(&self.index[lender])?
                .tags
                .into_iter()
                .filter(|t| !record.tags.iter().any(|own| own.key == t.key))
                .collect();
            if !extra.is_empty() {
                self.overlays.entry(offset).or_default().extend(extra);
                merged.insert(offset);
            }
        }

        let before = self.index.len();
        let mut flags = keep.into_iter();
        self.index.retain(|_| flags.next().unwrap_or(false));
        Ok(Normalised { dropped: before - self.index.len(), merged: merged.len() })
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

    /// One record as it was stored, with the tags merged into it.
    fn read(&self, e: &Entry) -> Result<Resource, StoreError> {
        let mut record = self.read_stored(e)?;
        if let Some(added) = self.overlays.get(&e.offset) {
            record.tags.extend(added.iter().cloned());
        }
        Ok(record)
    }

    fn read_stored(&self, e: &Entry) -> Result<Resource, StoreError> {
        let Some(file) = &self.file else {
            return Ok(self.memory[e.offset as usize].clone());
        };
        let mut buf = vec![0; e.len as usize];
        read_at(file, &mut buf, e.offset)?;
        Ok(serde_json::from_slice(&buf)?)
    }
}

/// Whether the tagging collector found the record (its attribute
/// `found_by` is `tagging`).
fn found_by_tagging(r: &Resource) -> bool {
    // Parsed only when the name occurs: most records never mention it.
    r.attributes.contains(FOUND_BY)
        && serde_json::from_str::<serde_json::Value>(&r.attributes)
            .is_ok_and(|a| a.get(FOUND_BY).and_then(|v| v.as_str()) == Some(FOUND_BY_TAGGING))
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

    fn tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
        pairs.iter().map(|(k, v)| Tag { key: (*k).into(), value: (*v).into() }).collect()
    }

    /// A record of the tagging collector for `arn`, filed as it files them.
    fn tagging(arn: &str, region: &str, pairs: &[(&str, &str)]) -> Resource {
        Resource {
            account_id: "1".into(),
            region: region.into(),
            service: "tagging".into(),
            resource_type: "tagged-resource".into(),
            id: arn.into(),
            arn: Some(arn.into()),
            name: None,
            state: None,
            created_at: None,
            tags: tags(pairs),
            attributes: r#"{"found_by":"tagging","resource_type":"x"}"#.into(),
        }
    }

    /// Both kinds of store: records in a temporary file, and in memory.
    fn stores() -> [ResourceStore; 2] {
        let in_memory = ResourceStore { tried_file: true, ..ResourceStore::default() };
        [ResourceStore::new(), in_memory]
    }

    fn all(store: &ResourceStore) -> Vec<Resource> {
        store.batches(2).collect::<Result<Vec<_>, _>>().unwrap().concat()
    }

    #[test]
    fn records_come_back_sorted_deduplicated_and_intact() {
        for mut store in stores() {
            store
                .extend(vec![resource("2", "b", Some("arn:x")), resource("1", "z", None)])
                .unwrap();
            store
                .extend(vec![resource("2", "a", Some("arn:x")), resource("1", "y", None)])
                .unwrap();
            assert_eq!(store.normalise().unwrap(), Normalised { dropped: 1, merged: 0 });
            let all = all(&store);
            let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(ids, ["y", "z", "a"]);
            assert_eq!(all[0], resource("1", "y", None));
        }
    }

    #[test]
    fn a_tagging_record_lends_its_missing_tags_to_the_collectors_record_and_goes() {
        for mut store in stores() {
            let mut bucket = resource("1", "logs", Some("arn:aws:s3:::logs"));
            bucket.region = "global".into();
            bucket.tags = tags(&[("Name", "logs"), ("env", "prod")]);
            // Sorted first (its region sorts before `global`), and still it
            // gives way.
            let lender =
                tagging("arn:aws:s3:::logs", "eu-west-1", &[("env", "dev"), ("team", "data")]);
            store.extend(vec![lender]).unwrap();
            store.extend(vec![bucket.clone()]).unwrap();
            assert_eq!(store.normalise().unwrap(), Normalised { dropped: 1, merged: 1 });
            let all = all(&store);
            assert_eq!(all.len(), 1);
            let mut want = bucket;
            // The collector's value of `env` wins; `team` only the tagging
            // API knew.
            want.tags = tags(&[("Name", "logs"), ("env", "prod"), ("team", "data")]);
            assert_eq!(all[0], want);
        }
    }

    #[test]
    fn a_tagging_record_no_collector_reported_stays_marked_as_found_by_tagging() {
        for mut store in stores() {
            let alone = tagging("arn:aws:sqs:eu-west-1:1:q", "eu-west-1", &[("a", "1")]);
            store
                .extend(vec![
                    alone.clone(),
                    resource("1", "i-1", Some("arn:aws:ec2:us-east-1:1:instance/i-1")),
                ])
                .unwrap();
            assert_eq!(store.normalise().unwrap(), Normalised { dropped: 0, merged: 0 });
            let all = all(&store);
            assert_eq!(all.len(), 2);
            let kept = all.iter().find(|r| r.service == "tagging").unwrap();
            assert_eq!(kept, &alone);
            let attributes: serde_json::Value = serde_json::from_str(&kept.attributes).unwrap();
            assert_eq!(attributes["found_by"], "tagging");
        }
    }

    #[test]
    fn tags_that_agree_merge_nothing_and_one_arn_is_never_listed_twice() {
        for mut store in stores() {
            let arn = "arn:aws:ec2:us-east-1:1:instance/i-1";
            let mut instance = resource("1", "i-1", Some(arn));
            instance.tags = tags(&[("Name", "web")]);
            store
                .extend(vec![
                    tagging(arn, "us-east-1", &[("Name", "other")]),
                    instance.clone(),
                    instance.clone(),
                    tagging(arn, "us-east-1", &[("Name", "web")]),
                ])
                .unwrap();
            assert_eq!(store.normalise().unwrap(), Normalised { dropped: 3, merged: 0 });
            assert_eq!(all(&store), [instance]);
        }
    }

    #[test]
    fn two_tagging_records_of_one_arn_give_one_record_with_both_tag_sets() {
        for mut store in stores() {
            let arn = "arn:aws:sns:us-east-1:1:t";
            store
                .extend(vec![
                    tagging(arn, "us-east-1", &[("a", "1")]),
                    tagging(arn, "us-east-1", &[("a", "2"), ("b", "2")]),
                ])
                .unwrap();
            assert_eq!(store.normalise().unwrap(), Normalised { dropped: 1, merged: 1 });
            let all = all(&store);
            assert_eq!(all.len(), 1);
            assert_eq!(all[0].tags, tags(&[("a", "1"), ("b", "2")]));
        }
    }

    #[test]
    fn an_attribute_merely_mentioning_found_by_is_a_collectors_record() {
        let mut r = resource("1", "i-1", Some("arn:1"));
        r.attributes = r#"{"note":"found_by","found_by":"console"}"#.into();
        assert!(!found_by_tagging(&r));
        r.attributes = r#"{"found_by":"tagging"}"#.into();
        assert!(found_by_tagging(&r));
    }
}
