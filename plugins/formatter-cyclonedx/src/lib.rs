//! The `cyclonedx` formatter: the bill of materials as a CycloneDX 1.6
//! JSON document (`.cdx.json`), valid against the official schema.
//!
//! * `metadata` names the run (timestamp, inventag as the tool, the run's
//!   metadata as `inventag:run:*` properties) and, as its component, the
//!   AWS estate that was scanned;
//! * every resource is a component: `type` is `data` for the storage-like
//!   types listed in [`DATA_TYPES`] and `platform` for the rest; `group`
//!   is the service, `name` the resource's name (else its id), `bom-ref`
//!   its ARN (else `account/region/service/type/id`, made unique), and its
//!   fields, tags and attributes are `inventag:aws:*` properties
//!   (`inventag:aws:tag:<key>` per tag, `inventag:aws:attributes` as JSON
//!   text);
//! * the top-level `properties` hold the coverage figures, every target
//!   that did not end `ok` (`inventag:coverage:problem`) and the
//!   compliance section (`inventag:compliance:*`, with
//!   `inventag:compliance:provisional` while it is compiled by the
//!   formatter).
//!
//! Values are written as they are, like the JSON formatter: JSON can carry
//! any text. The `serialNumber` is `urn:uuid:<run id>` when the run id is
//! a UUID. Components are written as batches arrive; the resources are
//! not kept, only their `bom-ref`s, to keep those unique.

use std::collections::HashSet;

use inventag_formatter_kit::{
    Chunked, Compliance, CoverageStats, RunFacts, Slot, Tally, outcome_name,
};
use inventag_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The formatter, registered with the host by `export_formatter!`.
struct CycloneDxFormatter;

/// Resource types (by the last word of their name) written as `data`
/// components; every other type is a `platform` component.
pub const DATA_TYPES: [&str; 12] = [
    "bucket",
    "volume",
    "snapshot",
    "table",
    "image",
    "backup",
    "repository",
    "file-system",
    "stream",
    "log-group",
    "secret",
    "parameter",
];

/// The document in progress.
struct Draft {
    facts: RunFacts,
    tally: Tally,
    out: Chunked,
    refs: HashSet<String>,
}

static DRAFT: Slot<Draft> = Slot::new();

fn prop(name: impl Into<String>, value: impl Into<String>) -> Value {
    json!({"name": name.into(), "value": value.into()})
}

fn write_json(out: &mut Chunked, value: &Value) {
    // Writing a `Value` into memory cannot fail: its keys are strings.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Whether `id` is a UUID as CycloneDX's `serialNumber` pattern wants it.
fn is_uuid(id: &str) -> bool {
    let b = id.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    b.len() == 36
        && b.iter().enumerate().all(
            |(i, c)| {
                if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { hex(c) }
            },
        )
        && (b'1'..=b'5').contains(&b[14])
        && [b'8', b'9', b'a', b'b'].contains(&b[19])
}

fn component_type(resource_type: &str) -> &'static str {
    let last = resource_type.rsplit([':', '/']).next().unwrap_or(resource_type);
    if DATA_TYPES.iter().any(|t| last.eq_ignore_ascii_case(t) || last.ends_with(&format!("-{t}"))) {
        "data"
    } else {
        "platform"
    }
}

impl Draft {
    fn begin(run: RunMetadata) -> Draft {
        let facts = RunFacts::new(run);
        let run = &facts.run;
        let mut props = vec![
            prop("inventag:run:id", run.run_id.clone()),
            prop("inventag:run:started_at", run.started_at.clone()),
            prop("inventag:run:finished_at", run.finished_at.clone()),
            prop("inventag:run:environment", run.environment.clone()),
        ];
        for a in &run.accounts {
            props
                .push(prop("inventag:run:account", format!("{} {}", a.account_id, a.account_name)));
        }
        for r in &run.regions {
            props.push(prop("inventag:run:region", r.clone()));
        }
        for c in &run.collectors {
            props.push(prop("inventag:run:collector", c.clone()));
        }
        let mut metadata = json!({
            "tools": {"components": [{
                "type": "application",
                "name": "inventag",
                "version": run.inventag_version,
                "description": "Bill of materials of everything an organisation runs in AWS",
            }]},
            "component": {
                "type": "platform",
                "bom-ref": "inventag:aws-estate",
                "name": "AWS",
                "description": format!(
                    "{} AWS accounts in {} regions, as collected by inventag",
                    run.accounts.len(),
                    run.regions.len()
                ),
            },
            "properties": props,
        });
        if !run.started_at.is_empty() {
            metadata["timestamp"] = Value::from(run.started_at.clone());
        }
        let mut out = Chunked::new();
        out.extend_from_slice(br#"{"bomFormat":"CycloneDX","specVersion":"1.6","#);
        if is_uuid(&run.run_id) {
            out.extend_from_slice(br#""serialNumber":"#);
            write_json(&mut out, &Value::from(format!("urn:uuid:{}", run.run_id)));
            out.push(b',');
        }
        out.extend_from_slice(br#""version":1,"metadata":"#);
        write_json(&mut out, &metadata);
        out.extend_from_slice(br#","components":["#);
        Draft { facts, tally: Tally::default(), out, refs: HashSet::new() }
    }

    fn add(&mut self, r: &Resource) {
        let base = match &r.arn {
            Some(arn) if !arn.is_empty() => arn.clone(),
            _ => {
                format!("{}/{}/{}/{}/{}", r.account_id, r.region, r.service, r.resource_type, r.id)
            }
        };
        let mut bom_ref = base.clone();
        let mut n = 2;
        while self.refs.contains(&bom_ref) {
            bom_ref = format!("{base}#{n}");
            n += 1;
        }
        self.refs.insert(bom_ref.clone());

        let mut props = vec![
            prop("inventag:aws:account_id", r.account_id.clone()),
            prop("inventag:aws:account_name", self.facts.account_name(&r.account_id)),
            prop("inventag:aws:region", r.region.clone()),
            prop("inventag:aws:service", r.service.clone()),
            prop("inventag:aws:resource_type", r.resource_type.clone()),
            prop("inventag:aws:id", r.id.clone()),
        ];
        let optional = [
            ("inventag:aws:arn", &r.arn),
            ("inventag:aws:state", &r.state),
            ("inventag:aws:created_at", &r.created_at),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                props.push(prop(name, v.clone()));
            }
        }
        for t in &r.tags {
            props.push(prop(format!("inventag:aws:tag:{}", t.key), t.value.clone()));
        }
        props.push(prop("inventag:aws:attributes", r.attributes.clone()));
        let name = match &r.name {
            Some(n) if !n.is_empty() => n.clone(),
            _ => r.id.clone(),
        };
        let component = json!({
            "type": component_type(&r.resource_type),
            "bom-ref": bom_ref,
            "group": r.service,
            "name": name,
            "description": format!("{} {} {} in {} {}",
                r.service, r.resource_type, r.id, r.account_id, r.region),
            "properties": props,
        });
        if self.tally.total > 0 {
            self.out.push(b',');
        }
        write_json(&mut self.out, &component);
        self.tally.add(r);
    }

    fn finish(mut self, coverage: &[TargetCoverage]) -> Result<Vec<u8>, String> {
        let stats = CoverageStats::of(coverage);
        let mut props = vec![
            prop("inventag:resources", self.tally.total.to_string()),
            prop("inventag:coverage:targets", stats.targets.to_string()),
            prop("inventag:coverage:ok", stats.ok.to_string()),
            prop("inventag:coverage:denied", stats.denied.to_string()),
            prop("inventag:coverage:incomplete", stats.incomplete.to_string()),
            prop("inventag:coverage:failed", stats.failed.to_string()),
        ];
        for c in coverage.iter().filter(|c| c.outcome != Outcome::Ok) {
            props.push(prop(
                "inventag:coverage:problem",
                format!(
                    "{} {} {}: {}: {}",
                    c.account_id,
                    c.region,
                    c.collector,
                    outcome_name(c.outcome),
                    c.messages.join("; ")
                ),
            ));
        }
        let compliance = Compliance::for_document(&self.tally, &stats);
        if compliance.provisional {
            props.push(prop("inventag:compliance:provisional", "true"));
        }
        props.push(prop("inventag:compliance:note", compliance.note.clone()));
        for item in &compliance.items {
            props.push(prop(
                format!("inventag:compliance:{}", item.control),
                format!("{}: {}", item.status.label(), item.detail),
            ));
        }
        self.out.extend_from_slice(br#"],"properties":"#);
        write_json(&mut self.out, &Value::Array(props));
        self.out.push(b'}');
        self.out.finish()
    }
}

impl Formatter for CycloneDxFormatter {
    fn add_compliance(report: inventag_plugin_sdk::formatter::ComplianceReport) {
        inventag_formatter_kit::compliance::keep(report);
    }

    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "cyclonedx".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "The bill of materials as CycloneDX 1.6 JSON".to_string(),
            format: "cyclonedx".to_string(),
        }
    }

    fn begin(run: RunMetadata) {
        if DRAFT.start(Draft::begin(run)) {
            log::warn("begin called again before finish; the earlier document is dropped");
        }
    }

    fn add_resources(batch: Vec<Resource>) {
        let added = DRAFT.with(|draft| batch.iter().for_each(|r| draft.add(r)));
        if added.is_none() {
            log::error(format!("{} resources arrived before begin; dropped", batch.len()));
        }
    }

    fn finish(coverage: Vec<TargetCoverage>) -> Result<Document, String> {
        let draft = DRAFT.take().ok_or_else(|| "finish called without begin".to_string())?;
        Ok(Document {
            bytes: draft.finish(&coverage)?,
            extension: "cdx.json".to_string(),
            media_type: "application/vnd.cyclonedx+json; version=1.6".to_string(),
        })
    }
}

export_formatter!(CycloneDxFormatter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_only_from_uuids() {
        assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_uuid("run-1"));
        assert!(!is_uuid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
    }

    #[test]
    fn storage_types_are_data() {
        assert_eq!(component_type("bucket"), "data");
        assert_eq!(component_type("db-snapshot"), "data");
        assert_eq!(component_type("instance"), "platform");
    }
}
