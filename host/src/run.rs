//! `inventag run`: reads the accounts file, loads the plugins, resolves
//! each account's credentials and regions, collects, and hands the BOM to
//! the formatters. Per-account problems become coverage records; only a
//! problem that leaves nothing to do stops the run. Every AWS call is
//! recorded in the audit log, and the compliance report is written beside
//! the documents and handed to every formatter.

use std::{
    path::PathBuf,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    audit::{AuditError, AuditLog},
    bom::{self, Outcome, RunMetadata, TargetCoverage},
    config::{AccountConfig, Region},
    credentials::{self, AccountsSourceError, ResolveOptions, Resolver, organizations::OrgOptions},
    gateway::{Caller, Gateway, GatewayOptions},
    output::{FileKind, OutputDir, OutputError},
    runtime::{Limits, LoadError, Loaded, Plugins, Runtime},
    scheduler::{self, AccountPlan, SchedulerOptions, history::CallHistory},
    validator::{Grants, Standard, Validator, Verdict},
    vetting::{Checked, Refusal, Vetting, VettingError, VettingOptions},
};

/// Everything `inventag run` is told.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The accounts file, if one is given.
    pub accounts_file: Option<PathBuf>,
    /// Organization discovery, if asked for.
    pub organization: Option<OrgOptions>,
    /// Formats to write, by `--formats` name.
    pub formats: Vec<String>,
    /// Where documents go.
    pub output_dir: PathBuf,
    /// Regions overriding the accounts file.
    pub regions: Option<Vec<Region>>,
    /// Where plugins are loaded from.
    pub plugin_dir: PathBuf,
    /// An endpoint standing in for AWS.
    pub endpoint_url: Option<String>,
    /// Targets running at once.
    pub concurrency: usize,
    /// Plugin limits.
    pub limits: Limits,
    /// How credentials are found.
    pub credentials: ResolveOptions,
    /// Live counts, for a progress display.
    pub progress: Arc<scheduler::Progress>,
    /// The compliance standard calls are held to.
    pub standard: Standard,
    /// Where the audit log goes; the output directory when `None`.
    pub audit_log: Option<PathBuf>,
    /// The lock, the trusted keys, and whether unvetted plugins may run.
    pub vetting: VettingOptions,
    /// Where precompiled components are kept; none when `None`.
    pub plugin_cache: Option<PathBuf>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every target and every format succeeded.
    Complete,
    /// Documents were written, but some target or format did not succeed.
    Partial,
    /// Nothing useful was produced.
    Failed,
}

/// What a run did.
#[derive(Debug)]
pub struct RunReport {
    /// How it ended.
    pub status: RunStatus,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Resources in the BOM.
    pub resources: usize,
    /// Targets, and how many ended `ok`.
    pub targets: (usize, usize),
    /// Coverage problems and format failures, one line each.
    pub problems: Vec<String>,
    /// Requests sent to AWS, retries included.
    pub calls: u64,
    /// Of those, retries.
    pub retries: u64,
    /// Throttling answers received.
    pub throttled: u64,
    /// The most requests in flight at once.
    pub peak_in_flight: u64,
    /// Time spent collecting (credentials, regions and targets).
    pub collect_time: Duration,
    /// Time spent running plugin code, summed over instances.
    pub plugin_time: Duration,
    /// Calls the validator refused.
    pub denied: u64,
    /// The audit log.
    pub audit_log: Option<PathBuf>,
    /// The compliance report file and its score.
    pub compliance: Option<(PathBuf, u8)>,
    /// Wall time.
    pub elapsed: Duration,
    /// Plugins that ran without being vetted (`--allow-unvetted`), one
    /// line each naming the plugin, its file and digest.
    pub unvetted: Vec<String>,
    /// Components taken from the cache and compiled, with a cache.
    pub cache: Option<(u64, u64)>,
}

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// There is no usable list of accounts.
    #[error(transparent)]
    Accounts(#[from] AccountsSourceError),
    /// The plugins could not be loaded.
    #[error(transparent)]
    Plugins(#[from] LoadError),
    /// No collector could be loaded.
    #[error("{dir}: no collector plugin could be loaded{problems}")]
    NoCollectors {
        /// The plugin directory.
        dir: PathBuf,
        /// The load problems, if any.
        problems: String,
    },
    /// A requested format has no formatter.
    #[error("no formatter for the format {format:?} in {dir} (available: {available})")]
    UnknownFormat {
        /// The format.
        format: String,
        /// The plugin directory.
        dir: PathBuf,
        /// The formats on offer.
        available: String,
    },
    /// The output directory is unusable.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The gateway could not start.
    #[error("{0}")]
    Gateway(String),
    /// The audit log could not be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A plugin is not vetted, or the lock or keys are unusable.
    #[error(transparent)]
    Vetting(#[from] VettingError),
    /// The collected records could not be read back from their store.
    #[error(transparent)]
    Records(#[from] bom::StoreError),
}

/// The host's own AWS needs, as grants.
fn host_caller() -> Caller {
    let regions = ["DescribeRegions".to_owned()];
    Caller::new("inventag", Arc::new(Grants::new([("ec2", &regions[..])])))
}

/// Runs a whole collection and writes every requested format.
pub async fn execute(options: RunOptions) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = bom::now_iso8601();
    let run_id = uuid::Uuid::new_v4().to_string();
    // A bad accounts file stops the run before anything is created; the
    // audit log must be open before the first AWS call (Organizations).
    match (&options.accounts_file, &options.organization) {
        (Some(path), _) => {
            drop(crate::config::AccountsFile::load(path).map_err(AccountsSourceError::from)?)
        }
        (None, None) => return Err(AccountsSourceError::Nothing.into()),
        (None, Some(_)) => {}
    }
    // Plugins are vetted before anything else is done: a refused plugin
    // costs no AWS call and leaves no file behind.
    let vetting = Vetting::open(&options.plugin_dir, &options.vetting)?;
    if vetting.allows_unvetted() {
        tracing::warn!(
            "--allow-unvetted: plugins that are neither in the lock nor signed by a trusted key \
             will run"
        );
    }
    let checked = vetting.check_all(&Runtime::plugin_files(&options.plugin_dir)?)?;
    let output = OutputDir::open(&options.output_dir)?;
    let audit = Arc::new(match &options.audit_log {
        Some(path) => AuditLog::append_to(path, run_id.clone(), options.standard)?,
        None => {
            let (path, file) = output.create(FileKind::Audit, &started_at, "jsonl")?;
            AuditLog::new(run_id.clone(), options.standard, Some((path, Box::new(file))))
        }
    });
    tracing::info!(
        run_id = %run_id,
        standard = %options.standard,
        audit_log = ?audit.file(),
        "audit log open"
    );
    let mut credentials = options.credentials.clone();
    credentials.endpoint_url = options.endpoint_url.clone();
    credentials.audit = Some(audit.clone());
    let (accounts, resolver) = credentials::accounts_and_resolver(
        options.accounts_file.as_deref(),
        options.organization.as_ref(),
        credentials,
    )
    .await?;

    let collect_started = Instant::now();
    let gateway = Arc::new(
        Gateway::new(GatewayOptions {
            endpoint_url: options.endpoint_url.clone(),
            standard: options.standard,
            audit: Some(audit.clone()),
            ..Default::default()
        })
        .map_err(|e| RunError::Gateway(e.to_string()))?,
    );
    let environment = resolver.environment().to_string();
    tracing::info!(%environment, "credential environment detected");
    let account_names: Vec<(String, String)> =
        accounts.accounts.iter().map(|a| (a.account_id.to_string(), a.name().to_owned())).collect();
    // The cache only saves time: one that cannot be used is noted and the
    // run goes on without it (and without the call history kept there).
    let mut runtime = Runtime::new(options.limits.clone())?;
    let mut cache_dir = None;
    if let Some(dir) = &options.plugin_cache {
        match runtime.with_cache(dir) {
            Ok(cached) => {
                runtime = cached;
                cache_dir = Some(dir.as_path());
            }
            Err(e) => {
                tracing::warn!("{e}; going on without it, so every plugin is compiled");
                runtime = Runtime::new(options.limits.clone())?;
            }
        }
    }
    let runtime = Arc::new(runtime);

    // Accounts are prepared concurrently, each with a few dependent calls
    // (identity, perhaps a role and the region list) that wait on AWS, and
    // while the plugins load. The preparation is waited for even when the
    // plugins turn out unusable, so no call is cut off unaudited.
    let preparing =
        {
            let (resolver, gateway) = (Arc::new(resolver), gateway.clone());
            let regions = options.regions.clone();
            let accounts = accounts.accounts;
            tokio::spawn(async move {
                futures_util::future::join_all(accounts.iter().map(|account| {
                    prepare_account(account, &resolver, &gateway, regions.as_deref())
                }))
                .await
            })
        };
    let (plugins, unvetted) = load_plugins(&runtime, checked, &audit).await;
    let chosen = choose_formatters(&plugins, &options);
    let prepared = match preparing.await {
        Ok(prepared) => prepared,
        // A panic while preparing is the host's bug: not a result to report
        // as an account's.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(RunError::Gateway(format!("preparing the accounts failed: {e}"))),
    };
    let formatters = chosen?;
    note_denied_declarations(&plugins.collectors, &audit);
    let mut plans = Vec::new();
    let mut host_coverage = Vec::new();
    let mut methods = std::collections::HashMap::new();
    for result in prepared {
        match result {
            Ok(plan) => {
                methods.insert(plan.account_id.clone(), plan.credentials.method().to_string());
                plans.push(plan);
            }
            Err(coverage) => host_coverage.push(coverage),
        }
    }

    let mut history = match cache_dir {
        Some(dir) => CallHistory::load(dir),
        None => CallHistory::none(),
    };
    let targets = scheduler::targets(&plans, &plugins.collectors, &gateway, &history);
    let mut bom = scheduler::collect(
        runtime.clone(),
        targets,
        &SchedulerOptions { concurrency: options.concurrency, progress: options.progress.clone() },
        &mut history,
    )
    .await;
    history.save();
    let collect_time = collect_started.elapsed();
    bom.coverage.extend(host_coverage);
    // A plugin that did not load is a gap in the run, which every reader of
    // the BOM must see, not only whoever reads stderr.
    bom.coverage.extend(plugins.problems.iter().map(|problem| TargetCoverage {
        account_id: "*".into(),
        account_name: "every account".into(),
        region: "*".into(),
        collector: match problem {
            LoadError::Plugin { file, .. } => format!(
                "plugin {}",
                file.file_name().map_or_else(
                    || file.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            ),
            _ => "plugins".into(),
        },
        outcome: Outcome::Failed,
        resources: 0,
        messages: vec![format!("plugin not loaded: {problem}")],
    }));
    let normalised = bom.normalise()?;
    if normalised.dropped > 0 {
        tracing::info!(
            dropped = normalised.dropped,
            merged = normalised.merged,
            "kept one record per ARN (merged: records that took tags only the tagging API \
             reported)"
        );
    }

    let mut regions: Vec<String> =
        plans.iter().flat_map(|p| p.regions.iter().map(|r| r.to_string())).collect();
    regions.sort();
    regions.dedup();
    let run = RunMetadata {
        run_id: run_id.clone(),
        started_at,
        finished_at: bom::now_iso8601(),
        inventag_version: crate::VERSION.into(),
        environment,
        accounts: account_names
            .into_iter()
            .map(|(account_id, account_name)| bom::AccountRef {
                credential_method: methods.get(account_id.as_str()).cloned(),
                account_id,
                account_name,
            })
            .collect(),
        regions,
        collectors: plugins.collectors.iter().map(|c| c.label()).collect(),
    };

    let mut problems: Vec<String> = bom
        .coverage
        .iter()
        .filter(|c| c.outcome != Outcome::Ok)
        .map(|c| {
            format!(
                "{} {} {}: {:?}: {}",
                c.account_id,
                c.region,
                c.collector,
                c.outcome,
                c.messages.join("; ")
            )
        })
        .collect();
    let stamp = run.started_at.clone();
    let compliance = audit.report();
    let report_bytes = serde_json::to_vec_pretty(&compliance).unwrap_or_default();
    let report_file = output.write_kind(FileKind::Compliance, &stamp, "json", &report_bytes)?;
    tracing::info!(
        file = %report_file.display(),
        score = compliance.score,
        denied = compliance.summary.denied_calls,
        "compliance report written"
    );
    let mut files = Vec::new();
    for formatter in &formatters {
        let t = Instant::now();
        match formatter.format(&runtime, &run, &bom, &compliance, &output, &stamp).await {
            Ok(doc) => {
                tracing::info!(
                    format = %formatter.info.format,
                    file = %doc.path.display(),
                    bytes = doc.bytes,
                    ms = t.elapsed().as_millis() as u64,
                    "document written"
                );
                files.push(doc.path);
            }
            Err(message) => {
                tracing::error!(format = %formatter.info.format, "{message}");
                problems.push(message);
            }
        }
    }

    if let Some(problem) = audit.write_error() {
        problems.push(problem);
    }
    let ok = bom.coverage.iter().filter(|c| c.outcome == Outcome::Ok).count();
    let status = if files.len() < formatters.len() && files.is_empty() && !formatters.is_empty() {
        RunStatus::Failed
    } else if ok == 0 && !bom.coverage.is_empty() {
        RunStatus::Failed
    } else if problems.is_empty() {
        RunStatus::Complete
    } else {
        RunStatus::Partial
    };
    Ok(RunReport {
        status,
        files,
        resources: bom.resources.len(),
        targets: (bom.coverage.len(), ok),
        problems,
        calls: gateway.counters.sent.load(Ordering::Relaxed),
        retries: gateway.counters.retries.load(Ordering::Relaxed),
        throttled: gateway.governor.throttled_count(),
        peak_in_flight: gateway.governor.in_flight().1,
        collect_time,
        plugin_time: runtime.plugin_time(),
        denied: compliance.summary.denied_calls,
        audit_log: audit.file().map(std::path::Path::to_owned),
        compliance: Some((report_file, compliance.score)),
        elapsed: started.elapsed(),
        unvetted,
        cache: runtime.cache().map(|c| (c.hits(), c.compiled())),
    })
}

/// Loads the vetted files. A plugin that runs unvetted is logged at warn
/// and becomes a finding; the lines naming them are returned.
/// The formatters of the requested formats, after the load's problems
/// are logged; an error when no collector loaded or a format has no
/// formatter.
fn choose_formatters(
    plugins: &Plugins,
    options: &RunOptions,
) -> Result<Vec<Arc<crate::runtime::LoadedFormatter>>, RunError> {
    for problem in &plugins.problems {
        tracing::warn!("{problem}");
    }
    if plugins.collectors.is_empty() {
        let problems: Vec<String> = plugins.problems.iter().map(|p| format!("\n  {p}")).collect();
        return Err(RunError::NoCollectors {
            dir: options.plugin_dir.clone(),
            problems: problems.concat(),
        });
    }
    let mut formatters = Vec::new();
    for format in &options.formats {
        let Some(f) = plugins.formatters.iter().find(|f| &f.info.format == format) else {
            let available: Vec<&str> =
                plugins.formatters.iter().map(|f| f.info.format.as_str()).collect();
            return Err(RunError::UnknownFormat {
                format: format.clone(),
                dir: options.plugin_dir.clone(),
                available: if available.is_empty() { "none".into() } else { available.join(", ") },
            });
        };
        formatters.push(f.clone());
    }
    Ok(formatters)
}

async fn load_plugins(
    runtime: &Runtime,
    checked: Vec<Checked>,
    audit: &AuditLog,
) -> (Plugins, Vec<String>) {
    let mut plugins = Plugins::default();
    let mut unvetted = Vec::new();
    for Checked { file, bytes, digest, status } in checked {
        let loaded = runtime.load_bytes(&file, bytes, digest).await;
        if !status.is_vetted() {
            // Its code ran (its describe, at least) even if it failed to
            // load, so it is marked either way.
            let label = match &loaded {
                Ok(Loaded::Collector(c)) => c.label(),
                Ok(Loaded::Formatter(f)) => f.label(),
                Err(_) => file.display().to_string(),
            };
            let why = Refusal { file, digest, status }.to_string();
            tracing::warn!(plugin = %label, "running under --allow-unvetted: {why}");
            audit.unvetted_plugin(&label, &why);
            unvetted.push(format!("{label}: {why}"));
        }
        match loaded {
            Ok(loaded) => plugins.add(loaded),
            Err(e) => plugins.problems.push(e),
        }
    }
    if let Some(cache) = runtime.cache() {
        tracing::info!(
            from_cache = cache.hits(),
            compiled = cache.compiled(),
            cache = %cache.dir().display(),
            "plugins loaded"
        );
    }
    (plugins, unvetted)
}

/// Resolves one account's credentials and regions; a failure becomes the
/// account's host coverage record.
async fn prepare_account(
    account: &AccountConfig,
    resolver: &Resolver,
    gateway: &Gateway,
    regions: Option<&[Region]>,
) -> Result<AccountPlan, TargetCoverage> {
    let name = account.name().to_owned();
    let failure = |message: String| {
        tracing::warn!(account = %account.account_id, "{message}");
        TargetCoverage {
            account_id: account.account_id.to_string(),
            account_name: name.clone(),
            region: "*".into(),
            collector: "host".into(),
            outcome: Outcome::Failed,
            resources: 0,
            messages: vec![message],
        }
    };
    let creds = resolver.resolve(account).await.outcome.map_err(|e| failure(e.to_string()))?;
    tracing::info!(
        account = %account.account_id,
        name = %name,
        method = %creds.method(),
        "credentials resolved"
    );
    let regions = match regions.map(<[Region]>::to_vec).or_else(|| account.regions.clone()) {
        Some(r) => r,
        None => {
            discover_regions(gateway, &creds, account.account_id.as_str()).await.map_err(failure)?
        }
    };
    Ok(AccountPlan {
        account_id: account.account_id.to_string(),
        account_name: name,
        regions,
        credentials: creds,
    })
}

/// Notes, as findings, every operation a collector declared that the
/// standard denies: the host will never grant it.
fn note_denied_declarations(collectors: &[Arc<crate::runtime::LoadedCollector>], audit: &AuditLog) {
    let validator = Validator::new(audit.standard());
    for collector in collectors {
        for (service, operations) in &collector.info.calls {
            for operation in operations {
                let judgement = validator.judge(service, operation, None);
                if let Verdict::Denied { rule, reason } = &judgement.verdict {
                    tracing::warn!(
                        collector = %collector.label(),
                        service,
                        operation,
                        rule,
                        "declares an operation that is never granted"
                    );
                    audit.declared_denied(&collector.label(), service, operation, rule, reason);
                }
            }
        }
    }
}

/// The regions enabled for an account, by `ec2:DescribeRegions`. Regions
/// the account has not opted in to are left out and named once, here.
async fn discover_regions(
    gateway: &Gateway,
    creds: &credentials::AccountCredentials,
    account_id: &str,
) -> Result<Vec<Region>, String> {
    let output = gateway
        .call(&host_caller(), creds, "ec2", "DescribeRegions", "us-east-1", &json!({}))
        .await
        .map_err(|e| format!("cannot list the account's regions (give `regions` in the accounts file or --regions): {e}"))?;
    let listed = enabled_regions(&output);
    if !listed.not_opted_in.is_empty() {
        tracing::info!(
            account = %account_id,
            regions = %listed.not_opted_in.join(", "),
            "skipping regions the account has not opted in to"
        );
    }
    if listed.enabled.is_empty() {
        return Err("the account lists no enabled region".into());
    }
    Ok(listed.enabled)
}

/// A `DescribeRegions` answer, sorted out.
#[derive(Debug, Default, PartialEq, Eq)]
struct ListedRegions {
    /// Regions to scan, sorted.
    enabled: Vec<Region>,
    /// Regions listed as `not-opted-in`, sorted.
    not_opted_in: Vec<String>,
}

fn enabled_regions(output: &serde_json::Value) -> ListedRegions {
    let mut listed = ListedRegions::default();
    for r in output["Regions"].as_array().into_iter().flatten() {
        let Some(name) = r["RegionName"].as_str() else { continue };
        if r["OptInStatus"].as_str() == Some("not-opted-in") {
            listed.not_opted_in.push(name.to_owned());
        } else if let Ok(region) = Region::parse(name) {
            listed.enabled.push(region);
        } else {
            tracing::warn!(region = name, "DescribeRegions listed a region name that is refused");
        }
    }
    listed.enabled.sort();
    listed.not_opted_in.sort();
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_not_opted_in_are_left_out_and_named() {
        let output = json!({"Regions": [
            {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
            {"RegionName": "af-south-1", "OptInStatus": "not-opted-in"},
            {"RegionName": "eu-south-1", "OptInStatus": "opted-in"},
            {"RegionName": "ap-east-1", "OptInStatus": "not-opted-in"},
            {"RegionName": "eu-west-1"},
        ]});
        let listed = enabled_regions(&output);
        let enabled: Vec<&str> = listed.enabled.iter().map(Region::as_str).collect();
        assert_eq!(enabled, ["eu-south-1", "eu-west-1", "us-east-1"]);
        assert_eq!(listed.not_opted_in, ["af-south-1", "ap-east-1"]);
    }
}
