//! Running a formatter: a fresh store per document, the BOM handed over in
//! batches, then the compliance report, and the bytes it returns checked
//! against the size cap. A formatter imports only `log`; it can read
//! nothing and write nothing.

use std::path::{Path, PathBuf};

use wasmtime::component::{Component, Linker};

use super::{
    Runtime,
    bindings::{
        formatter::{
            FormatterPlugin, FormatterPluginPre, exports::inventag::plugin::formatter as wit,
        },
        types,
    },
    host::{self, Sandbox, describe_failure, wasi_view},
};
use crate::{
    audit::{ComplianceReport, Severity, report},
    bom::{Bom, Outcome, RunMetadata},
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

/// A document a formatter produced.
#[derive(Debug)]
pub struct Document {
    /// The bytes to write.
    pub bytes: Vec<u8>,
    /// The extension, checked to be short and plain.
    pub extension: String,
    /// The media type.
    pub media_type: String,
}

/// The store state of a formatter.
pub struct FormatterState {
    sandbox: Sandbox,
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
        let state = FormatterState {
            sandbox: Sandbox::new(&rt.limits, file.display().to_string(), "describe".into()),
        };
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

    /// Produces the document for `bom` and its compliance section.
    pub async fn format(
        &self,
        rt: &Runtime,
        run: &RunMetadata,
        bom: &Bom,
        compliance: &ComplianceReport,
    ) -> Result<Document, String> {
        let label = self.label();
        let state = FormatterState {
            sandbox: Sandbox::new(&rt.limits, label.clone(), self.info.format.clone()),
        };
        let mut store = host::new_store(&rt.engine, state);
        let started = std::time::Instant::now();
        // wasmtime caps what one call may copy out of the guest at 128 MiB
        // by default; the document is one such copy, and its own cap (with
        // room for the record around it) is the one that should decide.
        store.set_hostcall_fuel(rt.limits.max_document_bytes.saturating_add(1 << 20));
        let result = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let api = instance.inventag_plugin_formatter();
            api.call_begin(&mut store, &metadata(run)).await?;
            for chunk in bom.resources.batches(BATCH) {
                let chunk = chunk.map_err(|e| wasmtime::Error::msg(e.to_string()))?;
                let batch: Vec<types::Resource> = chunk.iter().map(to_wit).collect();
                api.call_add_resources(&mut store, &batch).await?;
            }
            api.call_add_compliance(&mut store, &compliance_to_wit(compliance)).await?;
            let coverage: Vec<wit::TargetCoverage> = bom.coverage.iter().map(coverage).collect();
            api.call_finish(&mut store, &coverage).await
        }
        .await;
        rt.add_plugin_time(started.elapsed());
        let document = match result {
            Ok(Ok(doc)) => doc,
            Ok(Err(message)) => {
                return Err(format!("{label} could not write its document: {message}"));
            }
            Err(trap) => return Err(describe_failure(&trap, &label)),
        };
        if document.bytes.len() > rt.limits.max_document_bytes {
            return Err(format!(
                "{label} returned {} bytes, over the cap of {}",
                document.bytes.len(),
                rt.limits.max_document_bytes
            ));
        }
        let ext = &document.extension;
        if !crate::output::valid_extension(ext) {
            return Err(format!(
                "{label} returned the extension {ext:?}; use 1 to 3 dot-separated runs of \
                 letters or digits, 16 characters at most"
            ));
        }
        Ok(Document {
            bytes: document.bytes,
            extension: document.extension,
            media_type: document.media_type,
        })
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
