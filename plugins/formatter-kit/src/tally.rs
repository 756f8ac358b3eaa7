//! Figures gathered while the resources stream past, so that a summary
//! can be written at `finish` without keeping the resources.

use std::collections::{BTreeMap, HashMap};

use inventag_plugin_sdk::Resource;
use inventag_plugin_sdk::formatter::{Outcome, RunMetadata, TargetCoverage};

/// The run's metadata and a lookup of account names.
pub struct RunFacts {
    /// The run, as `begin` gave it.
    pub run: RunMetadata,
    names: HashMap<String, String>,
}

impl RunFacts {
    /// Keeps `run` and indexes its accounts by id.
    pub fn new(run: RunMetadata) -> RunFacts {
        let names =
            run.accounts.iter().map(|a| (a.account_id.clone(), a.account_name.clone())).collect();
        RunFacts { run, names }
    }

    /// The display name of `account_id`, or the empty string.
    pub fn account_name(&self, account_id: &str) -> &str {
        self.names.get(account_id).map_or("", String::as_str)
    }
}

/// Resource counts, each map sorted by key.
#[derive(Default)]
pub struct Tally {
    /// Every resource.
    pub total: u64,
    /// By service.
    pub by_service: BTreeMap<String, u64>,
    /// By service and resource type.
    pub by_type: BTreeMap<(String, String), u64>,
    /// By account id.
    pub by_account: BTreeMap<String, u64>,
    /// By region (`global` for global services).
    pub by_region: BTreeMap<String, u64>,
    /// Resources carrying no tag at all.
    pub untagged: u64,
    /// Resources with no name.
    pub unnamed: u64,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K) {
    *map.entry(key).or_insert(0) += 1;
}

fn bump_str(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

impl Tally {
    /// Counts one resource.
    pub fn add(&mut self, r: &Resource) {
        self.total += 1;
        bump_str(&mut self.by_service, &r.service);
        bump_str(&mut self.by_account, &r.account_id);
        bump_str(&mut self.by_region, &r.region);
        match self.by_type.get_mut(&(r.service.clone(), r.resource_type.clone())) {
            Some(n) => *n += 1,
            None => bump(&mut self.by_type, (r.service.clone(), r.resource_type.clone())),
        }
        if r.tags.is_empty() {
            self.untagged += 1;
        }
        if r.name.as_deref().is_none_or(str::is_empty) {
            self.unnamed += 1;
        }
    }

    /// How many resource types `service` has.
    pub fn types_of(&self, service: &str) -> usize {
        self.by_type.keys().filter(|(s, _)| s == service).count()
    }
}

/// How the targets of a run ended, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoverageStats {
    /// Every target.
    pub targets: u64,
    /// Collected in full.
    pub ok: u64,
    /// Refused by the validator or by AWS.
    pub denied: u64,
    /// Stopped early.
    pub incomplete: u64,
    /// Nothing collected.
    pub failed: u64,
}

impl CoverageStats {
    /// Counts `coverage`.
    pub fn of(coverage: &[TargetCoverage]) -> CoverageStats {
        let mut s = CoverageStats { targets: coverage.len() as u64, ..Default::default() };
        for c in coverage {
            match c.outcome {
                Outcome::Ok => s.ok += 1,
                // A disabled region is out of reach, as a denied one is.
                Outcome::Denied | Outcome::RegionDisabled => s.denied += 1,
                // Throttling past the retries keeps what came.
                Outcome::Incomplete | Outcome::Throttled => s.incomplete += 1,
                Outcome::Failed | Outcome::Unsupported => s.failed += 1,
            }
        }
        s
    }

    /// The share of targets collected in full, as `87.5%`; `n/a` with no
    /// targets.
    pub fn ok_percent(&self) -> String {
        if self.targets == 0 {
            return "n/a".to_string();
        }
        format!("{:.1}%", self.ok as f64 * 100.0 / self.targets as f64)
    }

    /// Whether every target ended `ok`.
    pub fn complete(&self) -> bool {
        self.ok == self.targets
    }
}

/// The coverage records that did not end `ok` first, then the rest, each
/// group in the host's order.
pub fn problems_first(coverage: &[TargetCoverage]) -> Vec<&TargetCoverage> {
    let mut out: Vec<&TargetCoverage> =
        coverage.iter().filter(|c| c.outcome != Outcome::Ok).collect();
    out.extend(coverage.iter().filter(|c| c.outcome == Outcome::Ok));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::Tag;

    fn r(service: &str, ty: &str, tags: usize) -> Resource {
        Resource {
            account_id: "012345678901".into(),
            region: "us-east-1".into(),
            service: service.into(),
            resource_type: ty.into(),
            id: "x".into(),
            arn: None,
            name: None,
            state: None,
            created_at: None,
            tags: (0..tags).map(|i| Tag { key: i.to_string(), value: String::new() }).collect(),
            attributes: "{}".into(),
        }
    }

    #[test]
    fn counts_by_every_key() {
        let mut t = Tally::default();
        t.add(&r("ec2", "instance", 1));
        t.add(&r("ec2", "volume", 0));
        t.add(&r("s3", "bucket", 2));
        assert_eq!(t.total, 3);
        assert_eq!(t.by_service["ec2"], 2);
        assert_eq!(t.by_type[&("ec2".to_string(), "volume".to_string())], 1);
        assert_eq!(t.by_account["012345678901"], 3);
        assert_eq!(t.untagged, 1);
        assert_eq!(t.unnamed, 3);
        assert_eq!(t.types_of("ec2"), 2);
        assert_eq!(t.types_of("s3"), 1);
    }

    #[test]
    fn coverage_counts_and_orders_problems_first() {
        let c = |outcome| TargetCoverage {
            account_id: "1".into(),
            account_name: "a".into(),
            region: "r".into(),
            collector: "c@1".into(),
            outcome,
            resources: 0,
            messages: vec![],
        };
        let all = vec![c(Outcome::Ok), c(Outcome::Failed), c(Outcome::Ok), c(Outcome::Denied)];
        let s = CoverageStats::of(&all);
        assert_eq!((s.targets, s.ok, s.failed, s.denied), (4, 2, 1, 1));
        assert_eq!(s.ok_percent(), "50.0%");
        let ordered: Vec<Outcome> = problems_first(&all).iter().map(|c| c.outcome).collect();
        assert_eq!(ordered, vec![Outcome::Failed, Outcome::Denied, Outcome::Ok, Outcome::Ok]);
        assert_eq!(CoverageStats::of(&[]).ok_percent(), "n/a");
    }
}
