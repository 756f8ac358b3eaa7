//! The `word` formatter: the bill of materials as a Word document (docx),
//! WordprocessingML written by hand into a zip inside the sandbox.
//!
//! The document, A4 landscape:
//!
//! 1. a title page with the run's metadata;
//! 2. an executive summary: totals, coverage, and tables of resources by
//!    service, by type, by account and by region;
//! 3. a section per service (a level-1 heading), with a level-2 heading
//!    and a table per resource type: name, id, account, region, state,
//!    created and tags. A type's table shows its first 1,000 resources and
//!    says how many more the Excel, CSV and JSON documents hold;
//! 4. a coverage section: every target, the ones that did not end `ok`
//!    first;
//! 5. a compliance section (provisional until the host passes its
//!    compliance record).
//!
//! Text goes through [`inventag_formatter_kit::text`]'s rules; a cell is
//! cut at 1,000 characters with a visible marker. Rows are turned into XML
//! as batches arrive, one buffer per resource type, and the resources are
//! not kept.

mod xml;

use std::collections::BTreeMap;
use std::io::Write as _;

use inventag_formatter_kit::{
    Compliance, CoverageStats, RunFacts, Slot, Tally, outcome_name, tally::problems_first,
};
use inventag_plugin_sdk::prelude::*;

/// The formatter, registered with the host by `export_formatter!`.
struct WordFormatter;

/// The most rows of one resource type's table.
const MAX_TYPE_ROWS: u64 = 1_000;
/// The most rows of the coverage table.
const MAX_COVERAGE_ROWS: usize = 2_000;

/// Column widths of a resource table, in twentieths of a point; they add
/// up to the width between the margins of A4 landscape.
const RESOURCE_WIDTHS: [u32; 7] = [2300, 2600, 2200, 1300, 1100, 1900, 3438];
const RESOURCE_HEADERS: [&str; 7] = ["Name", "ID", "Account", "Region", "State", "Created", "Tags"];

/// One resource type's table rows, as XML.
#[derive(Default)]
struct TypeSection {
    rows: String,
    count: u64,
}

/// The document in progress.
struct Draft {
    facts: RunFacts,
    tally: Tally,
    types: BTreeMap<(String, String), TypeSection>,
}

static DRAFT: Slot<Draft> = Slot::new();

impl Draft {
    fn add(&mut self, r: &Resource) {
        self.tally.add(r);
        let section = self.types.entry((r.service.clone(), r.resource_type.clone())).or_default();
        section.count += 1;
        if section.count > MAX_TYPE_ROWS {
            return;
        }
        let account = match self.facts.account_name(&r.account_id) {
            "" => r.account_id.clone(),
            name => format!("{}\n{name}", r.account_id),
        };
        let tags: Vec<String> = r.tags.iter().map(|t| format!("{} = {}", t.key, t.value)).collect();
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let cells = [
            opt(&r.name),
            r.id.clone(),
            account,
            r.region.clone(),
            opt(&r.state),
            opt(&r.created_at),
            tags.join("\n"),
        ];
        xml::row(&mut section.rows, &RESOURCE_WIDTHS, &cells);
    }

    /// The body of `word/document.xml`.
    fn body(&self, coverage: &[TargetCoverage]) -> String {
        let run = &self.facts.run;
        let stats = CoverageStats::of(coverage);
        let mut out = String::with_capacity(1 << 20);
        out.push_str(xml::DOCUMENT_START);

        // Title page.
        xml::para(&mut out, "Title", "inventag bill of materials");
        xml::para(
            &mut out,
            "Subtitle",
            &format!(
                "{} resources in {} accounts and {} regions",
                self.tally.total,
                run.accounts.len(),
                run.regions.len()
            ),
        );
        let accounts: Vec<String> = run
            .accounts
            .iter()
            .map(|a| {
                let method = a.credential_method.as_deref().unwrap_or("no credentials");
                format!("{} {} ({method})", a.account_id, a.account_name)
            })
            .collect();
        let facts: Vec<Vec<String>> = vec![
            vec!["Run id".into(), run.run_id.clone()],
            vec!["Started".into(), run.started_at.clone()],
            vec!["Finished".into(), run.finished_at.clone()],
            vec!["inventag version".into(), run.inventag_version.clone()],
            vec!["Environment".into(), run.environment.clone()],
            vec!["Accounts".into(), accounts.join("\n")],
            vec!["Regions".into(), run.regions.join(", ")],
            vec!["Collectors".into(), run.collectors.join(", ")],
        ];
        xml::table(&mut out, &[3000, 11838], &["Run", ""], &facts);
        xml::page_break(&mut out);

        // Executive summary.
        xml::para(&mut out, "Heading1", "Executive summary");
        xml::labelled(&mut out, "Resources", &self.tally.total.to_string());
        xml::labelled(
            &mut out,
            "Coverage",
            &format!(
                "{} of {} targets collected in full ({}); {} denied, {} incomplete, {} failed",
                stats.ok,
                stats.targets,
                stats.ok_percent(),
                stats.denied,
                stats.incomplete,
                stats.failed
            ),
        );
        xml::para(&mut out, "Heading2", "Resources by service");
        let rows: Vec<Vec<String>> =
            self.tally.by_service.iter().map(|(s, n)| vec![s.clone(), n.to_string()]).collect();
        xml::table(&mut out, &[5000, 2000], &["Service", "Resources"], &rows);
        xml::para(&mut out, "Heading2", "Resources by type");
        let rows: Vec<Vec<String>> = self
            .tally
            .by_type
            .iter()
            .map(|((s, t), n)| vec![s.clone(), t.clone(), n.to_string()])
            .collect();
        xml::table(&mut out, &[4000, 4000, 2000], &["Service", "Type", "Resources"], &rows);
        xml::para(&mut out, "Heading2", "Resources by account");
        let rows: Vec<Vec<String>> = self
            .tally
            .by_account
            .iter()
            .map(|(a, n)| vec![a.clone(), self.facts.account_name(a).to_string(), n.to_string()])
            .collect();
        xml::table(
            &mut out,
            &[2600, 5400, 2000],
            &["Account ID", "Account name", "Resources"],
            &rows,
        );
        xml::para(&mut out, "Heading2", "Resources by region");
        let rows: Vec<Vec<String>> =
            self.tally.by_region.iter().map(|(r, n)| vec![r.clone(), n.to_string()]).collect();
        xml::table(&mut out, &[4000, 2000], &["Region", "Resources"], &rows);

        // A section per service.
        let mut current: Option<&str> = None;
        for ((service, resource_type), section) in &self.types {
            if current != Some(service.as_str()) {
                xml::page_break(&mut out);
                let n = self.tally.by_service.get(service).copied().unwrap_or(0);
                xml::para(&mut out, "Heading1", &format!("Service: {service} ({n})"));
                current = Some(service);
            }
            xml::para(
                &mut out,
                "Heading2",
                &format!("{service} {resource_type} ({})", section.count),
            );
            xml::table_start(&mut out, &RESOURCE_WIDTHS, &RESOURCE_HEADERS);
            out.push_str(&section.rows);
            xml::table_end(&mut out);
            if section.count > MAX_TYPE_ROWS {
                xml::para(
                    &mut out,
                    "Note",
                    &format!(
                        "The first {MAX_TYPE_ROWS} of {} are shown; the Excel, CSV and JSON \
                         documents list every one.",
                        section.count
                    ),
                );
            }
        }

        // Coverage.
        xml::page_break(&mut out);
        xml::para(&mut out, "Heading1", "Coverage");
        xml::para(
            &mut out,
            "",
            &format!(
                "{} targets (account, region and collector): {} ok, {} denied, {} incomplete, \
                 {} failed. Targets that did not end ok come first.",
                stats.targets, stats.ok, stats.denied, stats.incomplete, stats.failed
            ),
        );
        let ordered = problems_first(coverage);
        let rows: Vec<Vec<String>> = ordered
            .iter()
            .take(MAX_COVERAGE_ROWS)
            .map(|c| {
                vec![
                    format!("{}\n{}", c.account_id, c.account_name),
                    c.region.clone(),
                    c.collector.clone(),
                    outcome_name(c.outcome).to_string(),
                    c.resources.to_string(),
                    c.messages.join("\n"),
                ]
            })
            .collect();
        xml::table(
            &mut out,
            &[2600, 1500, 2200, 1200, 1200, 6138],
            &["Account", "Region", "Collector", "Outcome", "Resources", "Messages"],
            &rows,
        );
        if ordered.len() > MAX_COVERAGE_ROWS {
            xml::para(
                &mut out,
                "Note",
                &format!(
                    "The first {MAX_COVERAGE_ROWS} of {} targets are shown; the JSON and Excel \
                     documents list every one.",
                    ordered.len()
                ),
            );
        }

        // Compliance.
        let compliance = Compliance::for_document(&self.tally, &stats);
        xml::para(
            &mut out,
            "Heading1",
            if compliance.provisional { "Compliance (provisional)" } else { "Compliance" },
        );
        xml::para(&mut out, "Note", &compliance.note);
        let rows: Vec<Vec<String>> = compliance
            .items
            .iter()
            .map(|i| {
                vec![
                    i.control.clone(),
                    i.status.label().to_string(),
                    i.detail.clone(),
                    i.source.clone(),
                ]
            })
            .collect();
        xml::table(
            &mut out,
            &[3600, 1600, 6038, 3600],
            &["Control", "Status", "Detail", "Source"],
            &rows,
        );

        out.push_str(xml::DOCUMENT_END);
        out
    }

    /// The docx package.
    fn package(&self, coverage: &[TargetCoverage]) -> Result<Vec<u8>, String> {
        let body = self.body(coverage);
        let core = xml::core("inventag bill of materials", &self.facts.run.started_at);
        let parts: [(&str, &[u8]); 7] = [
            ("[Content_Types].xml", xml::CONTENT_TYPES.as_bytes()),
            ("_rels/.rels", xml::PACKAGE_RELS.as_bytes()),
            ("docProps/core.xml", core.as_bytes()),
            ("docProps/app.xml", xml::APP.as_bytes()),
            ("word/_rels/document.xml.rels", xml::DOCUMENT_RELS.as_bytes()),
            ("word/styles.xml", xml::STYLES.as_bytes()),
            ("word/document.xml", body.as_bytes()),
        ];
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in parts {
            zip.start_file(name, options).map_err(|e| format!("{name}: {e}"))?;
            zip.write_all(bytes).map_err(|e| format!("{name}: {e}"))?;
        }
        let cursor = zip.finish().map_err(|e| format!("zip: {e}"))?;
        Ok(cursor.into_inner())
    }
}

impl Formatter for WordFormatter {
    fn add_compliance(report: inventag_plugin_sdk::formatter::ComplianceReport) {
        inventag_formatter_kit::compliance::keep(report);
    }

    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "word".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "The bill of materials as a Word document (docx)".to_string(),
            format: "word".to_string(),
        }
    }

    fn begin(run: RunMetadata) {
        let draft =
            Draft { facts: RunFacts::new(run), tally: Tally::default(), types: BTreeMap::new() };
        if DRAFT.start(draft) {
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
            bytes: inventag_formatter_kit::deliver(draft.package(&coverage)?)?,
            extension: "docx".to_string(),
            media_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                .to_string(),
        })
    }
}

export_formatter!(WordFormatter);
