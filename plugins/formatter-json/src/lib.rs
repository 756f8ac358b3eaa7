//! The `json` formatter: the bill of materials as one JSON document.
//!
//! The document is written as the host streams the run to the formatter:
//! `begin` writes the opening and the run metadata, each `add-resources`
//! serialises its resources straight into the output (the records
//! themselves are not kept), `add-compliance` keeps the compliance report,
//! and `finish` appends the coverage, a summary and the compliance section.
//! The bytes go to the host a chunk at a time as they are made, so the
//! document never sits whole in the formatter's memory. The shape:
//!
//! ```text
//! {"schema_version":"1.0",
//!  "run":{"run_id","started_at","finished_at","inventag_version",
//!         "environment","accounts":[{"account_id","account_name",
//!         "credential_method"}],"regions","collectors"},
//!  "resources":[{"account_id","region","service","resource_type","id","arn",
//!                "name","state","created_at","tags":[{"key","value"}],
//!                "attributes":{..}}],
//!  "coverage":[{"account_id","account_name","region","collector",
//!               "outcome":"ok|denied|throttled|region_disabled|unsupported|
//!                          incomplete|failed","resources","messages"}],
//!  "summary":{"total","by_service","by_account","by_region","by_type"},
//!  "compliance":{"standard","score","score_formula",
//!                "summary":{"allowed_calls","denied_calls"},
//!                "operations":{"allowed":[{"service","operation","rule","calls"}],
//!                              "denied":[..]},
//!                "blocked":[{"plugin","account_id","region","service",
//!                            "operation","rule","reason","attempts"}],
//!                "findings":[{"severity","kind","rule","plugin","service",
//!                             "operation","message"}]}}
//! ```
//!
//! `compliance` is `null` if the host gave no report.
//!
//! Absent optional fields are `null`. An `attributes` string that is not
//! valid JSON is kept as a JSON string. The summary maps are sorted by key;
//! `by_account` is keyed by account id and `by_type` by
//! `{service}:{resource_type}`, since a type name alone (`instance`) is not
//! unique across services.

use std::collections::BTreeMap;
use std::sync::Mutex;

use inventag_formatter_kit::Chunked;
use inventag_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The version of the document's shape.
const SCHEMA_VERSION: &str = "1.0";

/// The formatter, registered with the host by `export_formatter!`.
struct JsonFormatter;

/// The document being written, between `begin` and `finish`.
#[derive(Default)]
struct Draft {
    /// The document's bytes not yet handed to the host.
    out: Chunked,
    /// How many resources were written.
    total: u64,
    by_service: BTreeMap<String, u64>,
    by_account: BTreeMap<String, u64>,
    by_region: BTreeMap<String, u64>,
    by_type: BTreeMap<String, u64>,
    /// The compliance section, once given.
    compliance: Option<Value>,
}

/// The document in progress; `None` outside `begin`..`finish`.
static DRAFT: Mutex<Option<Draft>> = Mutex::new(None);

fn with_draft<T>(f: impl FnOnce(&mut Option<Draft>) -> T) -> T {
    let mut guard = DRAFT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut guard)
}

/// Appends `value` serialised as JSON.
fn write_json(out: &mut Chunked, value: &Value) {
    // Writing a `Value` into memory cannot fail: its keys are strings.
    let _ = serde_json::to_writer(&mut *out, value);
}

impl Formatter for JsonFormatter {
    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "json".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "The bill of materials as one JSON document".to_string(),
            format: "json".to_string(),
        }
    }

    fn begin(run: RunMetadata) {
        let accounts: Vec<Value> = run
            .accounts
            .iter()
            .map(|a| {
                json!({
                    "account_id": a.account_id,
                    "account_name": a.account_name,
                    "credential_method": a.credential_method,
                })
            })
            .collect();
        let run = json!({
            "run_id": run.run_id,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "inventag_version": run.inventag_version,
            "environment": run.environment,
            "accounts": accounts,
            "regions": run.regions,
            "collectors": run.collectors,
        });
        let mut draft = Draft::default();
        draft.out.extend_from_slice(b"{\"schema_version\":");
        write_json(&mut draft.out, &Value::from(SCHEMA_VERSION));
        draft.out.extend_from_slice(b",\"run\":");
        write_json(&mut draft.out, &run);
        draft.out.extend_from_slice(b",\"resources\":[");
        with_draft(|slot| {
            if slot.is_some() {
                log::warn("begin called again before finish; the earlier document is dropped");
            }
            *slot = Some(draft);
        });
    }

    fn add_resources(batch: Vec<Resource>) {
        with_draft(|slot| {
            let Some(draft) = slot.as_mut() else {
                log::error(format!("{} resources arrived before begin; dropped", batch.len()));
                return;
            };
            for resource in batch {
                draft.add(resource);
            }
        });
    }

    fn add_compliance(report: ComplianceReport) {
        with_draft(|slot| match slot.as_mut() {
            Some(draft) => draft.compliance = Some(compliance_json(report)),
            None => log::error("the compliance report arrived before begin; dropped"),
        });
    }

    fn finish(coverage: Vec<TargetCoverage>) -> Result<Document, String> {
        let Some(mut draft) = with_draft(Option::take) else {
            return Err("finish called without begin".to_string());
        };
        let coverage: Vec<Value> = coverage.into_iter().map(coverage_json).collect();
        let summary = json!({
            "total": draft.total,
            "by_service": draft.by_service,
            "by_account": draft.by_account,
            "by_region": draft.by_region,
            "by_type": draft.by_type,
        });
        draft.out.extend_from_slice(b"],\"coverage\":");
        write_json(&mut draft.out, &Value::Array(coverage));
        draft.out.extend_from_slice(b",\"summary\":");
        write_json(&mut draft.out, &summary);
        draft.out.extend_from_slice(b",\"compliance\":");
        write_json(&mut draft.out, &draft.compliance.take().unwrap_or(Value::Null));
        draft.out.push(b'}');
        Ok(Document {
            bytes: draft.out.finish()?,
            extension: "json".to_string(),
            media_type: "application/json".to_string(),
        })
    }
}

export_formatter!(JsonFormatter);

impl Draft {
    /// Writes one resource and counts it.
    fn add(&mut self, r: Resource) {
        let attributes = serde_json::from_str::<Value>(&r.attributes)
            .unwrap_or_else(|_| Value::String(r.attributes.clone()));
        let tags: Vec<Value> =
            r.tags.iter().map(|t| json!({"key": t.key, "value": t.value})).collect();
        let type_key = format!("{}:{}", r.service, r.resource_type);
        let value = json!({
            "account_id": r.account_id,
            "region": r.region,
            "service": r.service,
            "resource_type": r.resource_type,
            "id": r.id,
            "arn": r.arn,
            "name": r.name,
            "state": r.state,
            "created_at": r.created_at,
            "tags": tags,
            "attributes": attributes,
        });
        if self.total > 0 {
            self.out.push(b',');
        }
        write_json(&mut self.out, &value);
        self.total += 1;
        count(&mut self.by_service, r.service);
        count(&mut self.by_account, r.account_id);
        count(&mut self.by_region, r.region);
        count(&mut self.by_type, type_key);
    }
}

fn count(counts: &mut BTreeMap<String, u64>, key: String) {
    *counts.entry(key).or_insert(0) += 1;
}

fn coverage_json(c: TargetCoverage) -> Value {
    let outcome = match c.outcome {
        Outcome::Ok => "ok",
        Outcome::Denied => "denied",
        Outcome::Throttled => "throttled",
        Outcome::RegionDisabled => "region_disabled",
        Outcome::Unsupported => "unsupported",
        Outcome::Incomplete => "incomplete",
        Outcome::Failed => "failed",
    };
    json!({
        "account_id": c.account_id,
        "account_name": c.account_name,
        "region": c.region,
        "collector": c.collector,
        "outcome": outcome,
        "resources": c.resources,
        "messages": c.messages,
    })
}

fn compliance_json(r: ComplianceReport) -> Value {
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    for t in r.operations {
        let row = json!({
            "service": t.service,
            "operation": t.operation,
            "rule": t.rule,
            "calls": t.calls,
        });
        match t.verdict {
            Verdict::Allowed => allowed.push(row),
            Verdict::Denied => denied.push(row),
        }
    }
    let blocked: Vec<Value> = r
        .blocked
        .into_iter()
        .map(|b| {
            json!({
                "plugin": b.plugin,
                "account_id": b.account_id,
                "region": b.region,
                "service": b.service,
                "operation": b.operation,
                "rule": b.rule,
                "reason": b.reason,
                "attempts": b.attempts,
            })
        })
        .collect();
    let findings: Vec<Value> = r
        .findings
        .into_iter()
        .map(|f| {
            let severity = match f.severity {
                Severity::High => "high",
                Severity::Medium => "medium",
                Severity::Low => "low",
            };
            json!({
                "severity": severity,
                "kind": f.kind,
                "rule": f.rule,
                "plugin": f.plugin,
                "service": f.service,
                "operation": f.operation,
                "message": f.message,
            })
        })
        .collect();
    json!({
        "standard": r.standard,
        "score": r.score,
        "score_formula": r.score_formula,
        "summary": {"allowed_calls": r.allowed_calls, "denied_calls": r.denied_calls},
        "operations": {"allowed": allowed, "denied": denied},
        "blocked": blocked,
        "findings": findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, attributes: &str) -> Resource {
        Resource {
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            service: "ec2".into(),
            resource_type: "instance".into(),
            id: id.into(),
            arn: None,
            name: Some("web".into()),
            state: None,
            created_at: None,
            tags: vec![Tag { key: "Env".into(), value: String::new() }],
            attributes: attributes.into(),
        }
    }

    #[test]
    fn writes_the_whole_document() {
        JsonFormatter::begin(RunMetadata {
            run_id: "run-1".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            finished_at: "2025-01-01T00:01:00Z".into(),
            inventag_version: "0.1.0".into(),
            environment: "local".into(),
            accounts: vec![AccountRef {
                account_id: "123456789012".into(),
                account_name: "prod".into(),
                credential_method: Some("profile_name".into()),
            }],
            regions: vec!["eu-west-1".into()],
            collectors: vec!["ec2@0.1.0".into()],
        });
        JsonFormatter::add_resources(vec![resource("i-1", r#"{"b":1,"a":2}"#)]);
        JsonFormatter::add_resources(vec![]);
        JsonFormatter::add_resources(vec![resource("i-2", "not json")]);
        JsonFormatter::add_compliance(ComplianceReport {
            standard: "general".into(),
            score: 84,
            score_formula: "formula".into(),
            allowed_calls: 3,
            denied_calls: 1,
            operations: vec![OperationTally {
                service: "ec2".into(),
                operation: "TerminateInstances".into(),
                verdict: Verdict::Denied,
                rule: "not-read-only".into(),
                calls: 1,
            }],
            blocked: vec![BlockedAttempt {
                plugin: "probe@0.1.0".into(),
                account_id: "123456789012".into(),
                region: "eu-west-1".into(),
                service: "ec2".into(),
                operation: "TerminateInstances".into(),
                rule: "not-read-only".into(),
                reason: "Write".into(),
                attempts: 1,
            }],
            findings: vec![Finding {
                severity: Severity::High,
                kind: "blocked-call".into(),
                rule: "not-read-only".into(),
                plugin: "probe@0.1.0".into(),
                service: "ec2".into(),
                operation: "TerminateInstances".into(),
                message: "blocked".into(),
            }],
        });
        let doc = JsonFormatter::finish(vec![TargetCoverage {
            account_id: "123456789012".into(),
            account_name: "prod".into(),
            region: "eu-west-1".into(),
            collector: "ec2@0.1.0".into(),
            outcome: Outcome::Incomplete,
            resources: 2,
            messages: vec!["volumes: denied".into()],
        }])
        .unwrap();
        assert_eq!(doc.extension, "json");
        assert_eq!(doc.media_type, "application/json");
        let text = String::from_utf8(doc.bytes).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], "1.0");
        assert_eq!(v["run"]["accounts"][0]["account_name"], "prod");
        assert_eq!(v["resources"].as_array().unwrap().len(), 2);
        let first = &v["resources"][0];
        assert_eq!(first["arn"], Value::Null);
        assert_eq!(first["tags"], json!([{"key": "Env", "value": ""}]));
        assert!(text.contains(r#""attributes":{"b":1,"a":2}"#));
        assert_eq!(v["resources"][1]["attributes"], "not json");
        assert_eq!(v["coverage"][0]["outcome"], "incomplete");
        assert_eq!(v["summary"]["total"], 2);
        assert_eq!(v["summary"]["by_type"]["ec2:instance"], 2);
        assert_eq!(v["summary"]["by_account"]["123456789012"], 2);
        let compliance = &v["compliance"];
        assert_eq!(compliance["score"], 84);
        assert_eq!(compliance["operations"]["denied"][0]["operation"], "TerminateInstances");
        assert_eq!(compliance["blocked"][0]["plugin"], "probe@0.1.0");
        assert_eq!(compliance["findings"][0]["severity"], "high");
        assert!(JsonFormatter::finish(vec![]).is_err());
    }
}
