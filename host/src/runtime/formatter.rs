//! Running a formatter: a fresh store per document, the BOM handed over in
//! batches, then the compliance report, and `finish`. A formatter imports
//! `log` and `output`: it can read nothing, and it writes only its own
//! document, which the host appends, a piece at a time, to a hidden file
//! in the output directory under the size cap, and names when `finish`
//! succeeds. A document that fails or passes the cap leaves no file.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use wasmtime::component::{Component, Linker};

use super::{
    Runtime,
    bindings::{
        formatter::{
            FormatterPlugin, FormatterPluginPre, exports::inventag::plugin::formatter as wit,
            inventag::plugin::output,
        },
        types,
    },
    cpu,
    host::{self, Sandbox, describe_failure, wasi_view},
};
use crate::{
    audit::{ComplianceReport, Severity, report},
    bom::{Bom, Outcome, RunMetadata},
    output::{FileKind, OutputDir, PendingFile},
};

/// A formatter's description of itself.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FormatterInfo {
    /// Short unique name.
    pub name: String,
    /// Semver version.
    pub version: String,
    /// One line on what it writes.
    pub summary: String,
    /// The `--formats` name it answers to.
    pub format: String,
}

/// A formatter ready to run.
pub struct LoadedFormatter {
    /// The file it came from.
    pub file: PathBuf,
    /// What it declared.
    pub info: FormatterInfo,
    pre: FormatterPluginPre<FormatterState>,
}

/// A document a formatter wrote.
#[derive(Debug)]
pub struct Document {
    /// Where it was written.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// The media type the formatter gave.
    pub media_type: String,
}

/// The store state of a formatter.
pub struct FormatterState {
    sandbox: Sandbox,
    /// The file the document goes to; `None` for `describe`.
    document: Option<PendingFile>,
    /// The largest document allowed, in bytes.
    cap: u64,
    /// Why a write was refused, once one was: the document is lost.
    refused: Option<String>,
    /// Processor time spent writing the document, in nanoseconds.
    host_cpu: AtomicU64,
}

wasi_view!(FormatterState);

pub(super) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<FormatterState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    FormatterPlugin::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// Resources handed over per `add-resources` call.
const BATCH: usize = 500;

impl FormatterState {
    fn new(rt: &Runtime, plugin: String, scope: String, document: Option<PendingFile>) -> Self {
        FormatterState {
            sandbox: Sandbox::new(&rt.limits, plugin, scope),
            document,
            cap: rt.limits.max_document_bytes as u64,
            refused: None,
            host_cpu: AtomicU64::new(0),
        }
    }

    /// Appends `bytes` to the document under the cap; the first refusal
    /// is kept, and every later write is refused the same way.
    fn append(&mut self, bytes: &[u8]) -> Result<(), output::WriteError> {
        if self.refused.is_some() {
            return Err(output::WriteError::Failed("an earlier write was refused".into()));
        }
        let Some(document) = self.document.as_mut() else {
            self.refused = Some("wrote output outside a document".into());
            return Err(output::WriteError::Failed("no document is open".into()));
        };
        if document.written().saturating_add(bytes.len() as u64) > self.cap {
            self.refused = Some(format!("its document passed the size cap of {} bytes", self.cap));
            return Err(output::WriteError::TooLarge(self.cap));
        }
        document.write(bytes).map_err(|e| {
            self.refused = Some(e.to_string());
            output::WriteError::Failed("the host could not write the file".into())
        })
    }
}

impl output::Host for FormatterState {
    async fn write(&mut self, bytes: Vec<u8>) -> wasmtime::Result<Result<(), output::WriteError>> {
        let started = cpu::thread_time();
        let written = self.append(&bytes);
        cpu::add(&self.host_cpu, cpu::thread_time().saturating_sub(started));
        Ok(written)
    }
}

impl LoadedFormatter {
    pub(super) async fn load(
        rt: &Runtime,
        file: &Path,
        component: Component,
    ) -> Result<LoadedFormatter, String> {
        let pre = rt
            .formatter_linker
            .instantiate_pre(&component)
            .and_then(FormatterPluginPre::new)
            .map_err(|e| format!("cannot link as a formatter: {e:#}"))?;
        let state =
            FormatterState::new(rt, file.display().to_string(), host::DESCRIBE_SCOPE.into(), None);
        let mut store = host::new_store(&rt.engine, state);
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| describe_failure(&e, "the formatter"))?;
        let info = instance
            .inventag_plugin_formatter()
            .call_describe(&mut store)
            .await
            .map_err(|e| describe_failure(&e, "describe"))?;
        if info.format.is_empty()
            || !info
                .format
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!(
                "declares the format {:?}; use lower-case letters, digits and -",
                info.format
            ));
        }
        let info = FormatterInfo {
            name: info.name,
            version: info.version,
            summary: info.summary,
            format: info.format,
        };
        Ok(LoadedFormatter { file: file.to_owned(), info, pre })
    }

    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.info.name, self.info.version)
    }

    /// Writes the document for `bom` and its compliance section into
    /// `out`, named for `stamp` and the extension the formatter gives.
    #[tracing::instrument(name = "formatter.format", skip_all, fields(format = %self.info.format))]
    pub async fn format(
        &self,
        rt: &Runtime,
        run: &RunMetadata,
        bom: &Bom,
        compliance: &ComplianceReport,
        out: &OutputDir,
        stamp: &str,
    ) -> Result<Document, String> {
        let label = self.label();
        let pending = out.begin(FileKind::Bom, stamp).map_err(|e| format!("{label}: {e}"))?;
        let state = FormatterState::new(rt, label.clone(), self.info.format.clone(), Some(pending));
        let mut store = host::new_store(&rt.engine, state);
        let total = AtomicU64::new(0);
        // wasmtime caps what one call may copy out of the guest at 128 MiB
        // by default. A formatter that does not stream returns its whole
        // document from `finish`, and the document's own cap (with room
        // for the record around it) is the one that should decide.
        store.set_hostcall_fuel(rt.limits.max_document_bytes.saturating_add(1 << 20));
        // Only the plugin's own calls count as its time, not reading the
        // batches back from the record store.
        let result = async {
            let instance = cpu::on_cpu(&total, self.pre.instantiate_async(&mut store)).await?;
            let api = instance.inventag_plugin_formatter();
            cpu::on_cpu(&total, api.call_begin(&mut store, &metadata(run))).await?;
            for chunk in bom.resources.batches(BATCH) {
                let chunk = chunk.map_err(|e| wasmtime::Error::msg(e.to_string()))?;
                let batch: Vec<types::Resource> = chunk.iter().map(to_wit).collect();
                cpu::on_cpu(&total, api.call_add_resources(&mut store, &batch)).await?;
            }
            let report = compliance_to_wit(compliance);
            cpu::on_cpu(&total, api.call_add_compliance(&mut store, &report)).await?;
            let coverage: Vec<wit::TargetCoverage> = bom.coverage.iter().map(coverage).collect();
            cpu::on_cpu(&total, api.call_finish(&mut store, &coverage)).await
        }
        .await;
        let state = store.data_mut();
        let host = state.host_cpu.load(Ordering::Relaxed);
        rt.add_plugin_time(Duration::from_nanos(total.into_inner().saturating_sub(host)));
        // A refused write explains a formatter's failure (or its trap, for
        // one that ignored the refusal until the deadline) better than
        // its own words.
        if let Some(refused) = state.refused.take() {
            return Err(format!("{label}: {refused}"));
        }
        let document = match result {
            Ok(Ok(doc)) => doc,
            Ok(Err(message)) => {
                return Err(format!("{label} could not write its document: {message}"));
            }
            // A document returned whole from `finish` is copied out under
            // the hostcall fuel set above, which then reads as the cap.
            Err(trap) if format!("{trap:#}").contains("fuel allocated for hostcalls") => {
                return Err(format!(
                    "{label}: its document passed the size cap of {} bytes",
                    rt.limits.max_document_bytes
                ));
            }
            Err(trap) => return Err(describe_failure(&trap, &label)),
        };
        let ext = &document.extension;
        if !crate::output::valid_extension(ext) {
            return Err(format!(
                "{label} returned the extension {ext:?}; use 1 to 3 dot-separated runs of \
                 letters or digits, 16 characters at most"
            ));
        }
        if !document.bytes.is_empty() {
            state
                .append(&document.bytes)
                .map_err(|_| format!("{label}: {}", state.refused.take().unwrap_or_default()))?;
        }
        let pending = state.document.take().ok_or_else(|| format!("{label}: no document"))?;
        let bytes = pending.written();
        let path = pending.commit(ext).map_err(|e| format!("{label}: {e}"))?;
        Ok(Document { path, bytes, media_type: document.media_type })
    }
}

fn metadata(run: &RunMetadata) -> wit::RunMetadata {
    wit::RunMetadata {
        run_id: run.run_id.clone(),
        started_at: run.started_at.clone(),
        finished_at: run.finished_at.clone(),
        inventag_version: run.inventag_version.clone(),
        environment: run.environment.clone(),
        accounts: run
            .accounts
            .iter()
            .map(|a| wit::AccountRef {
                account_id: a.account_id.clone(),
                account_name: a.account_name.clone(),
                credential_method: a.credential_method.clone(),
            })
            .collect(),
        regions: run.regions.clone(),
        collectors: run.collectors.clone(),
    }
}

fn to_wit(r: &crate::bom::Resource) -> types::Resource {
    types::Resource {
        account_id: r.account_id.clone(),
        region: r.region.clone(),
        service: r.service.clone(),
        resource_type: r.resource_type.clone(),
        id: r.id.clone(),
        arn: r.arn.clone(),
        name: r.name.clone(),
        state: r.state.clone(),
        created_at: r.created_at.clone(),
        tags: r
            .tags
            .iter()
            .map(|t| types::Tag { key: t.key.clone(), value: t.value.clone() })
            .collect(),
        attributes: r.attributes.clone(),
    }
}

fn coverage(c: &crate::bom::TargetCoverage) -> wit::TargetCoverage {
    wit::TargetCoverage {
        account_id: c.account_id.clone(),
        account_name: c.account_name.clone(),
        region: c.region.clone(),
        collector: c.collector.clone(),
        outcome: match c.outcome {
            Outcome::Ok => wit::Outcome::Ok,
            Outcome::Denied => wit::Outcome::Denied,
            Outcome::Throttled => wit::Outcome::Throttled,
            Outcome::RegionDisabled => wit::Outcome::RegionDisabled,
            Outcome::Unsupported => wit::Outcome::Unsupported,
            Outcome::Incomplete => wit::Outcome::Incomplete,
            Outcome::Failed => wit::Outcome::Failed,
        },
        resources: c.resources,
        messages: c.messages.clone(),
    }
}

fn compliance_to_wit(r: &ComplianceReport) -> wit::ComplianceReport {
    let tally = |verdict: wit::Verdict| {
        move |t: &report::OperationTally| wit::OperationTally {
            service: t.service.clone(),
            operation: t.operation.clone(),
            verdict,
            rule: t.rule.clone(),
            calls: t.calls,
        }
    };
    let operations = r
        .operations
        .allowed
        .iter()
        .map(tally(wit::Verdict::Allowed))
        .chain(r.operations.denied.iter().map(tally(wit::Verdict::Denied)))
        .collect();
    wit::ComplianceReport {
        standard: r.standard.to_string(),
        score: r.score,
        score_formula: r.score_formula.to_owned(),
        allowed_calls: r.summary.allowed_calls,
        denied_calls: r.summary.denied_calls,
        operations,
        blocked: r
            .blocked
            .iter()
            .map(|b| wit::BlockedAttempt {
                plugin: b.plugin.clone(),
                account_id: b.account_id.clone(),
                region: b.region.clone(),
                service: b.service.clone(),
                operation: b.operation.clone(),
                rule: b.rule.clone(),
                reason: b.reason.clone(),
                attempts: b.attempts,
            })
            .collect(),
        findings: r
            .findings
            .iter()
            .map(|f| wit::Finding {
                severity: match f.severity {
                    Severity::High => wit::Severity::High,
                    Severity::Medium => wit::Severity::Medium,
                    Severity::Low => wit::Severity::Low,
                },
                kind: f.kind.to_owned(),
                rule: f.rule.clone(),
                plugin: f.plugin.clone(),
                service: f.service.clone(),
                operation: f.operation.clone(),
                message: f.message.clone(),
            })
            .collect(),
    }
}
