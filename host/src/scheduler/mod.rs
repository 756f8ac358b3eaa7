//! The scheduler: expands accounts, regions and collectors into targets
//! and runs them concurrently under one overall limit. Each target is
//! independent: a failure is recorded in its coverage and the others go
//! on, so one account's trouble never costs another account's data.

use std::sync::Arc;

use tokio::{sync::Semaphore, task::JoinSet};
use tracing::Instrument;

use crate::{
    bom::{Bom, Outcome, TargetCoverage},
    config::Region,
    credentials::AccountCredentials,
    gateway::Gateway,
    runtime::{LoadedCollector, Runtime, TargetSpec},
};

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

/// Scheduler settings.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// Targets running at once.
    pub concurrency: usize,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions { concurrency: 16 }
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

/// Every target of the plan.
pub fn targets(
    accounts: &[AccountPlan],
    collectors: &[Arc<LoadedCollector>],
    gateway: &Arc<Gateway>,
) -> Vec<(Arc<LoadedCollector>, TargetSpec)> {
    let mut out = Vec::new();
    for account in accounts {
        for collector in collectors {
            let spec = |region: &str, record_region: &str, partition: &str| TargetSpec {
                account_id: account.account_id.clone(),
                account_name: account.account_name.clone(),
                region: region.to_owned(),
                record_region: record_region.to_owned(),
                partition: partition.to_owned(),
                gateway: gateway.clone(),
                credentials: account.credentials.clone(),
            };
            if collector.info.global {
                let mut partitions: Vec<&str> =
                    account.regions.iter().map(Region::partition).collect();
                partitions.dedup();
                for partition in partitions {
                    out.push((
                        collector.clone(),
                        spec(home_region(partition), "global", partition),
                    ));
                }
            } else {
                for region in &account.regions {
                    out.push((
                        collector.clone(),
                        spec(region.as_str(), region.as_str(), region.partition()),
                    ));
                }
            }
        }
    }
    out
}

/// Runs every target and gathers the BOM.
pub async fn collect(
    runtime: Arc<Runtime>,
    targets: Vec<(Arc<LoadedCollector>, TargetSpec)>,
    options: &SchedulerOptions,
) -> Bom {
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let total = targets.len();
    for (collector, spec) in targets {
        let (runtime, limit) = (runtime.clone(), limit.clone());
        let fallback = TargetCoverage {
            account_id: spec.account_id.clone(),
            account_name: spec.account_name.clone(),
            region: spec.record_region.clone(),
            collector: collector.label(),
            outcome: Outcome::Failed,
            resources: 0,
            messages: Vec::new(),
        };
        let span = tracing::info_span!(
            "collect",
            collector = %collector.label(),
            account = %spec.account_id,
            region = %spec.record_region,
        );
        tasks.spawn(
            async move {
                let _permit = limit.acquire_owned().await.expect("the semaphore is never closed");
                (fallback, collector.collect(&runtime, spec).await)
            }
            .instrument(span),
        );
    }
    let mut bom = Bom::default();
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        done += 1;
        match joined {
            Ok((_, run)) => {
                let c = &run.coverage;
                if c.outcome == Outcome::Ok {
                    tracing::debug!(done, total, collector = %c.collector, account = %c.account_id, region = %c.region, resources = c.resources, "target done");
                } else {
                    tracing::warn!(done, total, collector = %c.collector, account = %c.account_id, region = %c.region, outcome = ?c.outcome, messages = ?c.messages, "target not complete");
                }
                bom.resources.extend(run.records);
                bom.coverage.push(run.coverage);
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
    bom
}
