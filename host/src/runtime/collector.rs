//! Running a collector: one fresh store per target, the `aws` import wired
//! to the gateway with the collector's own grants, and the `records` import
//! checking and gathering what it emits.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::Value;
use wasmtime::component::{Component, Linker, Resource};

use super::{
    Runtime,
    bindings::{
        aws,
        collector::{CollectorPlugin, CollectorPluginPre},
        records, types,
    },
    cpu::on_cpu,
    host::{self, Sandbox, describe_failure, wasi_view},
};
use crate::{
    bom::{self, Outcome, TargetCoverage},
    credentials::AccountCredentials,
    gateway::{CallError, Caller, ErrorKind, Gateway, Pages},
    validator::Grants,
};

/// A collector's description of itself, as the host keeps it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CollectorInfo {
    /// Short unique name.
    pub name: String,
    /// Semver version.
    pub version: String,
    /// One line on what it collects.
    pub summary: String,
    /// Collected once per account rather than per region.
    pub global: bool,
    /// Declared operations, by service.
    pub calls: Vec<(String, Vec<String>)>,
    /// Independent parts, collectable one at a time; empty when the
    /// collection is indivisible.
    pub parts: Vec<String>,
}

/// A collector ready to run.
pub struct LoadedCollector {
    /// The file it came from.
    pub file: PathBuf,
    /// What it declared.
    pub info: CollectorInfo,
    grants: Arc<Grants>,
    pre: CollectorPluginPre<CollectorState>,
}

/// One target to collect, with what the collector may reach it with.
#[derive(Clone)]
pub struct TargetSpec {
    /// The 12-digit account id.
    pub account_id: String,
    /// The account's display name.
    pub account_name: String,
    /// The region calls go to.
    pub region: String,
    /// The region written in records: `region`, or `global`.
    pub record_region: String,
    /// The partition.
    pub partition: String,
    /// The gateway.
    pub gateway: Arc<Gateway>,
    /// The account's credentials.
    pub credentials: Arc<AccountCredentials>,
    /// The one part to collect, or all.
    pub part: Option<String>,
    /// The regions the run scans for the account, with the home region of
    /// each of their partitions: the only regions the collector may call.
    pub regions: Arc<[String]>,
    /// Where accepted records go as they arrive; without one they are
    /// returned in [`CollectorRun::records`].
    pub sink: Option<Arc<std::sync::Mutex<bom::ResourceStore>>>,
}

/// What one target produced.
pub struct CollectorRun {
    /// How it ended.
    pub coverage: TargetCoverage,
    /// The records it emitted and the host accepted.
    pub records: Vec<bom::Resource>,
    /// The AWS calls it made that the validator let through.
    pub calls: u32,
}

/// A paginated call as a guest resource: the pages, or the reason there
/// will be none, given on the first `next`.
pub struct PageStream(Result<Pages, Option<CallError>>);

struct AwsAccess {
    gateway: Arc<Gateway>,
    caller: Caller,
    credentials: Arc<AccountCredentials>,
}

/// The store state of a collector.
pub struct CollectorState {
    sandbox: Sandbox,
    aws: Option<AwsAccess>,
    account_id: String,
    call_region: String,
    record_region: String,
    max_records: u64,
    max_record_bytes: usize,
    call_timeout: std::time::Duration,
    records: Vec<bom::Resource>,
    limit_reached: bool,
    rejected: Vec<String>,
    denials: Vec<String>,
    /// Kinds of the calls that failed, to name the outcome.
    failures: FailureKinds,
    /// Processor time spent in this store's host calls, in nanoseconds.
    host_cpu: Arc<AtomicU64>,
    /// Where accepted records go, if not into `records`.
    sink: Option<Arc<std::sync::Mutex<bom::ResourceStore>>>,
    /// Records accepted so far.
    accepted: u64,
}

/// Which kinds of failure a target's calls met.
#[derive(Debug, Default, Clone, Copy)]
struct FailureKinds {
    throttled: bool,
    region_disabled: bool,
    unsupported: bool,
}

wasi_view!(CollectorState);

pub(super) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<CollectorState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    CollectorPlugin::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}

impl LoadedCollector {
    pub(super) async fn load(
        rt: &Runtime,
        file: &Path,
        component: Component,
    ) -> Result<LoadedCollector, String> {
        let pre = rt
            .collector_linker
            .instantiate_pre(&component)
            .and_then(CollectorPluginPre::new)
            .map_err(|e| format!("cannot link as a collector: {e:#}"))?;
        let state = CollectorState::new(
            rt,
            None,
            file.display().to_string(),
            host::DESCRIBE_SCOPE.into(),
            String::new(),
            (String::new(), String::new()),
        );
        let mut store = host::new_store(&rt.engine, state);
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| describe_failure(&e, "the collector"))?;
        let info = instance
            .inventag_plugin_collector()
            .call_describe(&mut store)
            .await
            .map_err(|e| describe_failure(&e, "describe"))?;
        if info.name.is_empty()
            || !info.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!("declares the name {:?}; use letters, digits, - and _", info.name));
        }
        let calls: Vec<(String, Vec<String>)> =
            info.calls.into_iter().map(|c| (c.service, c.operations)).collect();
        let grants =
            Arc::new(Grants::new(calls.iter().map(|(s, ops)| (s.as_str(), ops.as_slice()))));
        let info = CollectorInfo {
            name: info.name,
            version: info.version,
            summary: info.summary,
            global: info.global,
            calls,
            parts: info.parts,
        };
        Ok(LoadedCollector { file: file.to_owned(), info, grants, pre })
    }

    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.info.name, self.info.version)
    }

    /// Collects one target in a fresh store. Never fails: a trap, a
    /// deadline or a refusal becomes the coverage record's outcome, and
    /// whatever was emitted before it is kept.
    pub async fn collect(&self, rt: &Runtime, spec: TargetSpec) -> CollectorRun {
        let label = self.label();
        let access = AwsAccess {
            gateway: spec.gateway.clone(),
            caller: Caller {
                part: spec.part.clone(),
                regions: Some(spec.regions.clone()),
                ..Caller::new(label.clone(), self.grants.clone())
            },
            credentials: spec.credentials.clone(),
        };
        let scope = match &spec.part {
            Some(part) => format!("{}/{}/{part}", spec.account_id, spec.record_region),
            None => format!("{}/{}", spec.account_id, spec.record_region),
        };
        let mut state = CollectorState::new(
            rt,
            Some(access),
            label.clone(),
            scope,
            spec.account_id.clone(),
            (spec.region.clone(), spec.record_region.clone()),
        );
        state.sink = spec.sink.clone();
        let mut store = host::new_store(&rt.engine, state);
        let target = types::Target {
            account_id: spec.account_id.clone(),
            account_name: spec.account_name.clone(),
            region: spec.region.clone(),
            partition: spec.partition.clone(),
            part: spec.part.clone(),
        };
        let total = AtomicU64::new(0);
        let result = on_cpu(&total, async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            instance.inventag_plugin_collector().call_collect(&mut store, &target).await
        })
        .await;
        let state = store.into_data();
        let host = state.host_cpu.load(Ordering::Relaxed);
        rt.add_plugin_time(Duration::from_nanos(total.into_inner().saturating_sub(host)));
        let mut messages = Vec::new();
        let outcome = match result {
            Ok(Ok(summary)) => {
                messages.extend(summary.warnings);
                if messages.is_empty() { Outcome::Ok } else { Outcome::Incomplete }
            }
            Ok(Err(e)) => {
                messages.push(format!("{label}: {}", e.message));
                match (e.access_denied, state.accepted == 0) {
                    (true, true) => Outcome::Denied,
                    (false, true) => Outcome::Failed,
                    _ => Outcome::Incomplete,
                }
            }
            Err(trap) => {
                messages.push(describe_failure(&trap, &label));
                if state.accepted == 0 { Outcome::Failed } else { Outcome::Incomplete }
            }
        };
        // A collection that did not finish is named after what stopped it.
        let outcome = match outcome {
            Outcome::Incomplete | Outcome::Failed if state.failures.region_disabled => {
                Outcome::RegionDisabled
            }
            Outcome::Incomplete | Outcome::Failed if state.failures.throttled => Outcome::Throttled,
            Outcome::Failed if state.failures.unsupported => Outcome::Unsupported,
            other => other,
        };
        let outcome = if state.limit_reached {
            messages.push(format!(
                "{label} reached the cap of {} records for one target",
                state.max_records
            ));
            Outcome::Incomplete
        } else {
            outcome
        };
        messages.extend(state.denials.iter().cloned());
        messages.extend(state.rejected.iter().cloned());
        let calls = state.aws.as_ref().map_or(0, |aws| aws.caller.calls.load(Ordering::Relaxed));
        CollectorRun {
            coverage: TargetCoverage {
                account_id: spec.account_id,
                account_name: spec.account_name,
                region: spec.record_region,
                collector: label,
                outcome,
                resources: state.accepted,
                messages,
            },
            records: state.records,
            calls,
        }
    }
}

impl CollectorState {
    fn new(
        rt: &Runtime,
        aws: Option<AwsAccess>,
        plugin: String,
        scope: String,
        account_id: String,
        (call_region, record_region): (String, String),
    ) -> CollectorState {
        CollectorState {
            sandbox: Sandbox::new(&rt.limits, plugin, scope),
            aws,
            account_id,
            call_region,
            record_region,
            max_records: rt.limits.max_records,
            max_record_bytes: rt.limits.max_record_bytes,
            call_timeout: rt.limits.call_timeout,
            records: Vec::new(),
            limit_reached: false,
            rejected: Vec::new(),
            denials: Vec::new(),
            failures: FailureKinds::default(),
            host_cpu: Arc::default(),
            sink: None,
            accepted: 0,
        }
    }

    fn note_kind(&mut self, kind: ErrorKind) {
        match kind {
            ErrorKind::Throttled => self.failures.throttled = true,
            ErrorKind::RegionDisabled => self.failures.region_disabled = true,
            ErrorKind::Unsupported => self.failures.unsupported = true,
            _ => {}
        }
    }

    /// A call's result as the guest sees it, its failure noted.
    fn answer(
        &mut self,
        service: &str,
        operation: &str,
        result: Result<Value, CallError>,
    ) -> wasmtime::Result<Result<String, aws::AwsError>> {
        match result {
            Ok(output) => Ok(Ok(serde_json::to_string(&output)?)),
            Err(e) => {
                self.note(service, operation, &e);
                Ok(Err(to_wit(e)))
            }
        }
    }

    fn note(&mut self, service: &str, operation: &str, e: &CallError) {
        self.note_kind(e.kind);
        if e.kind == ErrorKind::Denied {
            self.denials
                .push(format!("{service}:{operation} denied by rule {}: {}", e.code, e.message));
        }
    }

    /// Checks a record against the target and turns it into the host's type.
    fn accept(&self, r: types::Resource) -> Result<bom::Resource, String> {
        let id = r.id.clone();
        let bad = |field: &str, why: String| format!("record {id:?}: field `{field}` {why}");
        if r.account_id != self.account_id {
            return Err(bad(
                "account-id",
                format!("is {:?}, but the target is {}", r.account_id, self.account_id),
            ));
        }
        // A global collector runs in its service's home region; its records
        // may name that region or `global`, and are filed under `global`.
        let global = self.record_region == "global" && r.region == self.call_region;
        if r.region != self.record_region && !global {
            return Err(bad(
                "region",
                format!("is {:?}, but the target is {}", r.region, self.record_region),
            ));
        }
        for (field, value) in
            [("id", &r.id), ("service", &r.service), ("resource-type", &r.resource_type)]
        {
            if value.is_empty() {
                return Err(bad(field, "is empty".into()));
            }
        }
        let size = record_bytes(&r);
        if size > self.max_record_bytes {
            return Err(bad(
                "attributes",
                format!(
                    "makes the record {size} bytes, over the cap of {} bytes per record \
                     (--plugin-max-record-kib)",
                    self.max_record_bytes
                ),
            ));
        }
        match serde_json::from_str::<Value>(&r.attributes) {
            Ok(Value::Object(_)) => {}
            _ => return Err(bad("attributes", "is not a JSON object".into())),
        }
        Ok(bom::Resource {
            account_id: r.account_id,
            region: self.record_region.clone(),
            service: r.service,
            resource_type: r.resource_type,
            id: r.id,
            arn: r.arn,
            name: r.name,
            state: r.state,
            created_at: r.created_at,
            tags: r.tags.into_iter().map(|t| bom::Tag { key: t.key, value: t.value }).collect(),
            attributes: r.attributes,
        })
    }
}

/// The bytes of a record's text: every field, tag and the attributes.
fn record_bytes(r: &types::Resource) -> usize {
    let optional = [&r.arn, &r.name, &r.state, &r.created_at];
    [&r.account_id, &r.region, &r.service, &r.resource_type, &r.id, &r.attributes]
        .iter()
        .map(|s| s.len())
        .chain(optional.iter().map(|s| s.as_ref().map_or(0, String::len)))
        .chain(r.tags.iter().map(|t| t.key.len() + t.value.len()))
        .sum()
}

/// Runs a host call for a plugin, giving up after `budget`: the plugin then
/// gets a `transport` error and the call's future is dropped, which
/// abandons the request in flight.
async fn bounded<T>(
    budget: std::time::Duration,
    service: &str,
    operation: &str,
    call: impl std::future::Future<Output = Result<T, CallError>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(budget, call).await {
        Ok(result) => result,
        Err(_) => Err(CallError::host(
            ErrorKind::Transport,
            "HostCallTimeout",
            format!(
                "{service}:{operation} got no answer within {:.1}s (--plugin-call-timeout, or \
                 the plugin's deadline); the call was abandoned",
                budget.as_secs_f64()
            ),
        )),
    }
}

fn to_wit(e: CallError) -> aws::AwsError {
    aws::AwsError {
        kind: match e.kind {
            ErrorKind::Denied => aws::ErrorKind::Denied,
            ErrorKind::AccessDenied => aws::ErrorKind::AccessDenied,
            ErrorKind::Throttled => aws::ErrorKind::Throttled,
            ErrorKind::RegionDisabled => aws::ErrorKind::RegionDisabled,
            ErrorKind::InvalidInput => aws::ErrorKind::InvalidInput,
            ErrorKind::Unsupported => aws::ErrorKind::Unsupported,
            ErrorKind::NotFound => aws::ErrorKind::NotFound,
            ErrorKind::Transport => aws::ErrorKind::Transport,
            ErrorKind::Service => aws::ErrorKind::Service,
        },
        code: e.code,
        message: e.message,
        http_status: e.http_status,
        request_id: e.request_id,
    }
}

fn parse_input(input: &str) -> Result<Value, CallError> {
    match serde_json::from_str::<Value>(input) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(CallError::host(
            ErrorKind::InvalidInput,
            "InvalidInput",
            "the input must be a JSON object".into(),
        )),
        Err(e) => Err(CallError::host(
            ErrorKind::InvalidInput,
            "InvalidInput",
            format!("the input is not JSON: {e}"),
        )),
    }
}

fn no_access() -> CallError {
    CallError::host(
        ErrorKind::Denied,
        "NoAwsAccess",
        "AWS cannot be called while a collector describes itself".into(),
    )
}

impl aws::Host for CollectorState {
    async fn call(
        &mut self,
        service: String,
        operation: String,
        region: String,
        input: String,
    ) -> wasmtime::Result<Result<String, aws::AwsError>> {
        let cpu = self.host_cpu.clone();
        on_cpu(&cpu, self.host_call(service, operation, region, input)).await
    }

    async fn paginate(
        &mut self,
        service: String,
        operation: String,
        region: String,
        input: String,
    ) -> wasmtime::Result<Resource<PageStream>> {
        let cpu = self.host_cpu.clone();
        on_cpu(&cpu, self.host_paginate(service, operation, region, input)).await
    }

    async fn paginate_all(
        &mut self,
        service: String,
        operation: String,
        region: String,
        input: String,
    ) -> wasmtime::Result<Result<String, aws::AwsError>> {
        let cpu = self.host_cpu.clone();
        on_cpu(&cpu, self.host_paginate_all(service, operation, region, input)).await
    }
}

/// The host calls' work, measured by the trait methods that call them.
impl CollectorState {
    async fn host_call(
        &mut self,
        service: String,
        operation: String,
        region: String,
        input: String,
    ) -> wasmtime::Result<Result<String, aws::AwsError>> {
        let Some(access) = &self.aws else { return Ok(Err(to_wit(no_access()))) };
        let budget = self.sandbox.host_call_budget(self.call_timeout);
        let result = match parse_input(&input) {
            Ok(input) => {
                let call = access.gateway.call(
                    &access.caller,
                    &access.credentials,
                    &service,
                    &operation,
                    &region,
                    &input,
                );
                bounded(budget, &service, &operation, call).await
            }
            Err(e) => Err(e),
        };
        self.answer(&service, &operation, result)
    }

    async fn host_paginate(
        &mut self,
        service: String,
        operation: String,
        region: String,
        input: String,
    ) -> wasmtime::Result<Resource<PageStream>> {
        let stream = match (&self.aws, parse_input(&input)) {
            (None, _) => PageStream(Err(Some(no_access()))),
            (Some(_), Err(e)) => PageStream(Err(Some(e))),
            (Some(access), Ok(input)) => {
                let (caller, credentials) = (&access.caller, &access.credentials);
                let screened = access.gateway.screen(
                    caller,
                    credentials,
                    &service,
                    &operation,
                    &region,
                    Some(&input),
                );
                match screened {
                    Err(e) => {
                        self.note(&service, &operation, &e);
                        PageStream(Err(Some(e)))
                    }
                    Ok(_) => PageStream(Ok(access.gateway.paginate(
                        access.caller.clone(),
                        access.credentials.clone(),
                        &service,
                        &operation,
                        &region,
                        input,
                    ))),
                }
            }
        };
        Ok(self.sandbox.table.push(stream)?)
    }

    async fn host_paginate_all(
        &mut self,
        service: String,
        operation: String,
        region: String,
        input: String,
    ) -> wasmtime::Result<Result<String, aws::AwsError>> {
        let Some(access) = &self.aws else { return Ok(Err(to_wit(no_access()))) };
        let budget = self.sandbox.host_call_budget(self.call_timeout);
        let result = match parse_input(&input) {
            Ok(input) => {
                match access.gateway.admit(&access.caller, &service, &operation, &region) {
                    Ok(_) => {
                        let pages = access.gateway.paginate(
                            access.caller.clone(),
                            access.credentials.clone(),
                            &service,
                            &operation,
                            &region,
                            input,
                        );
                        bounded(budget, &service, &operation, pages.merged()).await
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        self.answer(&service, &operation, result)
    }
}

impl aws::HostPages for CollectorState {
    async fn next(
        &mut self,
        this: Resource<PageStream>,
    ) -> wasmtime::Result<Result<Option<String>, aws::AwsError>> {
        let cpu = self.host_cpu.clone();
        on_cpu(&cpu, self.host_next(this)).await
    }

    async fn drop(&mut self, this: Resource<PageStream>) -> wasmtime::Result<()> {
        self.sandbox.table.delete(this)?;
        Ok(())
    }
}

impl CollectorState {
    async fn host_next(
        &mut self,
        this: Resource<PageStream>,
    ) -> wasmtime::Result<Result<Option<String>, aws::AwsError>> {
        let budget = self.sandbox.host_call_budget(self.call_timeout);
        let stream = self.sandbox.table.get_mut(&this)?;
        let answer = match &mut stream.0 {
            Err(pending) => Ok(match pending.take() {
                Some(e) => Err(to_wit(e)),
                None => Ok(None),
            }),
            Ok(pages) => match bounded(budget, "pages", "next", pages.next()).await {
                Ok(Some(page)) => Ok(Ok(Some(serde_json::to_string(&page)?))),
                Ok(None) => Ok(Ok(None)),
                Err(e) => {
                    self.note_kind(e.kind);
                    Ok(Err(to_wit(e)))
                }
            },
        };
        answer
    }
}

/// The most rejected-record messages kept per target.
const MAX_REJECTION_NOTES: usize = 20;

impl records::Host for CollectorState {
    async fn emit(
        &mut self,
        batch: Vec<types::Resource>,
    ) -> wasmtime::Result<Result<(), records::EmitError>> {
        let cpu = self.host_cpu.clone();
        on_cpu(&cpu, self.host_emit(batch)).await
    }
}

impl CollectorState {
    async fn host_emit(
        &mut self,
        batch: Vec<types::Resource>,
    ) -> wasmtime::Result<Result<(), records::EmitError>> {
        if self.aws.is_none() {
            return Ok(Err(records::EmitError::Invalid(
                "records cannot be emitted while describing".into(),
            )));
        }
        let mut first_error = None;
        for record in batch {
            if self.accepted >= self.max_records {
                // The records accepted before the cap still go to the sink.
                self.limit_reached = true;
                break;
            }
            match self.accept(record) {
                Ok(r) => {
                    self.accepted += 1;
                    self.records.push(r);
                }
                Err(why) => {
                    if self.rejected.len() < MAX_REJECTION_NOTES {
                        self.rejected.push(format!("{}: rejected {why}", self.sandbox.plugin));
                    }
                    first_error.get_or_insert(why);
                }
            }
        }
        if let Some(sink) = &self.sink {
            let taken = std::mem::take(&mut self.records);
            let kept = sink.lock().unwrap_or_else(|p| p.into_inner()).extend(taken);
            if let Err(e) = kept {
                let why = format!("the host could not keep the records: {e}");
                self.rejected.push(format!("{}: {why}", self.sandbox.plugin));
                return Ok(Err(records::EmitError::Invalid(why)));
            }
        }
        Ok(match first_error {
            _ if self.limit_reached => Err(records::EmitError::LimitReached(self.max_records)),
            Some(why) => Err(records::EmitError::Invalid(why)),
            None => Ok(()),
        })
    }
}
