//! The scheduler: expands accounts, regions and collectors into targets
//! and runs them concurrently under one overall limit (the gateway's
//! governor adds limits per account and per service). Each target is
//! independent: a failure is recorded in its coverage and the others go
//! on, so one account's trouble never costs another account's data. A
//! region found disabled for an account is noted once, and the account's
//! other targets in that region are skipped rather than tried.
//!
//! Order matters when the run is bound by round trips: the collection
//! cannot end before its longest chain of dependent calls does. Targets
//! start longest-first by the [`history`] of the last run, the accounts
//! taken in turn, and the gateway's governor serves a target deep in its
//! chain before one making its first call.

pub mod history;

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::{sync::Semaphore, task::JoinSet};
use tracing::Instrument;

use crate::{
    bom::{Bom, Outcome, ResourceStore, TargetCoverage},
    config::Region,
    credentials::AccountCredentials,
    gateway::Gateway,
    runtime::{CollectorRun, LoadedCollector, Runtime, TargetSpec},
};
use history::CallHistory;

/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One account ready to scan.
#[derive(Clone)]
pub struct AccountPlan {
    /// The 12-digit id.
    pub account_id: String,
    /// The display name.
    pub account_name: String,
    /// The regions to scan.
    pub regions: Vec<Region>,
    /// Its credentials.
    pub credentials: Arc<AccountCredentials>,
}

/// Live counts of a collection, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Targets in the plan.
    pub total: AtomicU64,
    /// Targets finished.
    pub done: AtomicU64,
    /// Resources gathered so far.
    pub resources: AtomicU64,
    /// Targets that did not end `ok`.
    pub problems: AtomicU64,
}

impl Progress {
    /// `(done, total, resources, problems)`.
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
            self.resources.load(Ordering::Relaxed),
            self.problems.load(Ordering::Relaxed),
        )
    }
}

/// Scheduler settings.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// Targets running at once.
    pub concurrency: usize,
    /// Where live counts go.
    pub progress: Arc<Progress>,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions { concurrency: 16, progress: Arc::default() }
    }
}

/// The region a global service is called in, per partition.
fn home_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

/// Where one collector runs for one account.
#[derive(Debug, PartialEq, Eq)]
struct Placement<'a> {
    /// The region calls go to.
    region: &'a str,
    /// The region its records are filed under.
    record_region: &'a str,
    /// The partition.
    partition: &'static str,
}

/// Where a collector runs for an account scanning `regions`: a regional
/// collector in each region; a global one once per partition the regions
/// span, in that partition's home region, its records filed under
/// `global`, however many regions are scanned.
fn placements(regions: &[Region], global: bool) -> Vec<Placement<'_>> {
    if !global {
        return regions
            .iter()
            .map(|r| Placement {
                region: r.as_str(),
                record_region: r.as_str(),
                partition: r.partition(),
            })
            .collect();
    }
    let mut partitions: Vec<&'static str> = regions.iter().map(Region::partition).collect();
    // The regions come in the accounts file's order; a partition named
    // twice, apart, is still one run.
    partitions.sort_unstable();
    partitions.dedup();
    partitions
        .into_iter()
        .map(|partition| Placement {
            region: home_region(partition),
            record_region: "global",
            partition,
        })
        .collect()
}

/// Adds a target's coverage, merging the parts of one collector's target
/// (same account, region and collector) into one record: resources add up,
/// messages gather, and the outcome is shared when every part agrees,
/// `incomplete` when some part collected something, else `failed`.
fn merge_coverage(all: &mut Vec<TargetCoverage>, part: TargetCoverage) {
    let same = |c: &&mut TargetCoverage| {
        c.account_id == part.account_id
            && c.region == part.region
            && c.collector == part.collector
            && c.collector != "host"
    };
    let Some(whole) = all.iter_mut().find(same) else {
        all.push(part);
        return;
    };
    whole.resources += part.resources;
    whole.messages.extend(part.messages);
    if whole.outcome != part.outcome {
        let partial = |o: Outcome| matches!(o, Outcome::Ok | Outcome::Incomplete);
        whole.outcome = if partial(whole.outcome) || partial(part.outcome) {
            Outcome::Incomplete
        } else {
            Outcome::Failed
        };
    }
}

/// The regions an account's collectors may call: those the run scans,
/// and the home region of each of their partitions, where global services
/// answer.
fn scanned_regions(regions: &[Region]) -> Arc<[String]> {
    let mut all: Vec<String> = regions.iter().map(|r| r.as_str().to_owned()).collect();
    all.extend(regions.iter().map(|r| home_region(r.partition()).to_owned()));
    all.sort();
    all.dedup();
    all.into()
}

/// Every target of the plan, in the order they start: the parts whose
/// targets made the most calls last time first (a part the history does
/// not know counts as longest, as it may be); among equals, the parts with
/// the most declared operations each (a part that asks several things of
/// every item it lists makes long chains); and among those the accounts
/// taken in turn, so the overall limit is shared among the accounts from
/// the start rather than filled by the first of them.
pub fn targets(
    accounts: &[AccountPlan],
    collectors: &[Arc<LoadedCollector>],
    gateway: &Arc<Gateway>,
    history: &CallHistory,
) -> Vec<(Arc<LoadedCollector>, TargetSpec)> {
    let mut per_account: Vec<std::vec::IntoIter<_>> = accounts
        .iter()
        .map(|account| account_targets(account, collectors, gateway).into_iter())
        .collect();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        out.extend(per_account.iter_mut().filter_map(Iterator::next));
        if out.len() == before {
            break;
        }
    }
    // Stable: equals keep the accounts-in-turn order.
    out.sort_by_cached_key(|(collector, spec)| {
        let known = history.expected(&history::key(&collector.info.name, spec.part.as_deref()));
        let operations: usize = collector.info.calls.iter().map(|(_, ops)| ops.len()).sum();
        let per_part = operations * 16 / collector.info.parts.len().max(1);
        std::cmp::Reverse((known.unwrap_or(u32::MAX), per_part))
    });
    out
}

/// The targets of one account, collector by collector.
fn account_targets(
    account: &AccountPlan,
    collectors: &[Arc<LoadedCollector>],
    gateway: &Arc<Gateway>,
) -> Vec<(Arc<LoadedCollector>, TargetSpec)> {
    let mut out = Vec::new();
    for collector in collectors {
        // A collector with declared parts runs one target per part, so
        // its independent calls wait on AWS side by side.
        let parts: Vec<Option<String>> = if collector.info.parts.is_empty() {
            vec![None]
        } else {
            collector.info.parts.iter().cloned().map(Some).collect()
        };
        let scanned = scanned_regions(&account.regions);
        for place in placements(&account.regions, collector.info.global) {
            for part in &parts {
                let spec = TargetSpec {
                    account_id: account.account_id.clone(),
                    account_name: account.account_name.clone(),
                    region: place.region.to_owned(),
                    record_region: place.record_region.to_owned(),
                    partition: place.partition.to_owned(),
                    gateway: gateway.clone(),
                    credentials: account.credentials.clone(),
                    part: part.clone(),
                    regions: scanned.clone(),
                    sink: None,
                };
                out.push((collector.clone(), spec));
            }
        }
    }
    out
}

/// Runs every target and gathers the BOM; the calls each part made go
/// into `history`.
pub async fn collect(
    runtime: Arc<Runtime>,
    targets: Vec<(Arc<LoadedCollector>, TargetSpec)>,
    options: &SchedulerOptions,
    history: &mut CallHistory,
) -> Bom {
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let disabled: Arc<Mutex<HashSet<(String, String)>>> = Arc::default();
    let mut tasks = JoinSet::new();
    let total = targets.len();
    let progress = options.progress.clone();
    progress.total.store(total as u64, Ordering::Relaxed);
    // Records go to one store as they arrive, so a target holds none of
    // them in memory while it runs.
    let store = Arc::new(Mutex::new(ResourceStore::new()));
    let mut known = std::collections::BTreeSet::new();
    for (collector, mut spec) in targets {
        spec.sink = Some(store.clone());
        let (runtime, limit, disabled) = (runtime.clone(), limit.clone(), disabled.clone());
        let fallback = TargetCoverage {
            account_id: spec.account_id.clone(),
            account_name: spec.account_name.clone(),
            region: spec.record_region.clone(),
            collector: collector.label(),
            outcome: Outcome::Failed,
            resources: 0,
            messages: Vec::new(),
        };
        let part_key = history::key(&collector.info.name, spec.part.as_deref());
        known.insert(part_key.clone());
        let span = tracing::info_span!(
            "collect",
            collector = %collector.label(),
            account = %spec.account_id,
            region = %spec.record_region,
        );
        tasks.spawn(
            async move {
                let _permit = limit.acquire_owned().await.expect("the semaphore is never closed");
                let key = (spec.account_id.clone(), spec.region.clone());
                if lock(&disabled).contains(&key) {
                    let mut skipped = fallback.clone();
                    skipped.outcome = Outcome::RegionDisabled;
                    skipped
                        .messages
                        .push(format!("skipped: {} is disabled for account {}", key.1, key.0));
                    let run = CollectorRun { coverage: skipped, records: Vec::new(), calls: 0 };
                    return (part_key, run);
                }
                let run = collector.collect(&runtime, spec).await;
                if run.coverage.outcome == Outcome::RegionDisabled && lock(&disabled).insert(key) {
                    tracing::warn!(
                        account = %run.coverage.account_id,
                        region = %run.coverage.region,
                        "the region is disabled or not opted in for the account; its other \
                         targets there are skipped"
                    );
                }
                (part_key, run)
            }
            .instrument(span),
        );
    }
    let mut bom = Bom::default();
    let mut observed: std::collections::BTreeMap<String, u32> = Default::default();
    let mut done = 0;
    let started = Instant::now();
    let mut last_report = Instant::now();
    while let Some(joined) = tasks.join_next().await {
        done += 1;
        progress.done.store(done as u64, Ordering::Relaxed);
        if last_report.elapsed() >= PROGRESS_EVERY || done == total {
            last_report = Instant::now();
            let (_, _, resources, problems) = progress.snapshot();
            tracing::info!(
                done,
                total,
                resources,
                problems,
                elapsed_s = started.elapsed().as_secs(),
                "progress"
            );
        }
        match joined {
            Ok((part_key, run)) => {
                // Only a whole collection says how long the part's chain is.
                if run.coverage.outcome == Outcome::Ok {
                    let most = observed.entry(part_key).or_default();
                    *most = (*most).max(run.calls);
                }
                let c = &run.coverage;
                progress.resources.fetch_add(run.coverage.resources, Ordering::Relaxed);
                if c.outcome != Outcome::Ok {
                    progress.problems.fetch_add(1, Ordering::Relaxed);
                }
                if c.outcome == Outcome::Ok {
                    tracing::debug!(done, total, collector = %c.collector, account = %c.account_id, region = %c.region, resources = c.resources, "target done");
                } else {
                    tracing::warn!(done, total, collector = %c.collector, account = %c.account_id, region = %c.region, outcome = ?c.outcome, messages = ?c.messages, "target not complete");
                }
                // The records are in the shared store already (see the
                // sink above); only the coverage is gathered here.
                merge_coverage(&mut bom.coverage, run.coverage);
            }
            Err(e) => {
                // A panic inside the host while running a target: recorded,
                // and the other targets' data kept.
                tracing::error!(error = %e, "a collection task failed");
                bom.coverage.push(TargetCoverage {
                    account_id: String::new(),
                    account_name: String::new(),
                    region: String::new(),
                    collector: "host".into(),
                    outcome: Outcome::Failed,
                    resources: 0,
                    messages: vec![format!("a collection task failed: {e}")],
                });
            }
        }
    }
    drop(tasks);
    history.update(observed, &known);
    bom.resources = match Arc::try_unwrap(store) {
        Ok(store) => store.into_inner().unwrap_or_else(|p| p.into_inner()),
        // Every task is joined, so no other handle remains; if one did, its
        // records are taken rather than lost.
        Err(shared) => std::mem::take(&mut *lock(&shared)),
    };
    bom
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(names: &[&str]) -> Vec<Region> {
        names.iter().map(|n| Region::parse(n).unwrap()).collect()
    }

    #[test]
    fn a_regional_collector_runs_in_every_region_under_its_own_name() {
        let scanned = regions(&["us-east-1", "eu-west-1", "ap-southeast-2"]);
        let places = placements(&scanned, false);
        let names: Vec<(&str, &str)> = places.iter().map(|p| (p.region, p.record_region)).collect();
        assert_eq!(
            names,
            [
                ("us-east-1", "us-east-1"),
                ("eu-west-1", "eu-west-1"),
                ("ap-southeast-2", "ap-southeast-2")
            ]
        );
    }

    #[test]
    fn a_global_collector_runs_once_in_its_home_region_however_many_regions_are_scanned() {
        let (one, three) =
            (regions(&["eu-west-1"]), regions(&["eu-west-1", "us-east-1", "ap-southeast-2"]));
        let (one, three) = (placements(&one, true), placements(&three, true));
        let want = [Placement { region: "us-east-1", record_region: "global", partition: "aws" }];
        assert_eq!(one, want);
        assert_eq!(three, want);
    }

    #[test]
    fn a_global_collector_runs_once_per_partition_even_when_its_regions_are_apart() {
        let scanned = regions(&["eu-west-1", "cn-north-1", "us-east-1"]);
        let places = placements(&scanned, true);
        let homes: Vec<(&str, &str)> = places.iter().map(|p| (p.partition, p.region)).collect();
        assert_eq!(homes, [("aws", "us-east-1"), ("aws-cn", "cn-north-1")]);
        assert!(places.iter().all(|p| p.record_region == "global"));
    }
}
