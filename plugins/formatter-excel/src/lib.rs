//! The `excel` formatter: the bill of materials as an xlsx workbook,
//! written with rust_xlsxwriter inside the sandbox.
//!
//! Sheets, in order:
//!
//! * **Summary**: the run's metadata, the coverage figures, and tables of
//!   resources by service, by resource type, by account and by region;
//! * one sheet per service, or per resource type where a service has
//!   several (`ec2 instance`, `ec2 volume`): an Excel table with header
//!   filters, a frozen header row and widths fitted to the data. Columns:
//!   account id, account name, region, id, name, state, created, ARN,
//!   attributes (JSON), other tags, then one `Tag: <key>` column per tag
//!   key in order of first appearance;
//! * **Coverage**: every target, the ones that did not end `ok` first;
//! * **Compliance**: the compliance section (provisional until the host
//!   passes its compliance record).
//!
//! Every text goes through [`inventag_formatter_kit::text`]'s rules and is
//! written as a string cell, never a formula: account ids and other ids
//! stay text (leading zeros kept, Excel's "number stored as text" flag
//! silenced). A value over Excel's 32,767-character cell limit is cut with
//! a visible marker. A literal `_xHHHH_` in data, which Excel would decode
//! as an escaped character, reads back as written: rust_xlsxwriter escapes
//! its underscore. Sheet names follow
//! [`inventag_formatter_kit::sheet`].
//!
//! Rows go into per-type worksheets as batches arrive; the resources are
//! not kept. The workbook itself holds the cells until `finish`:
//! rust_xlsxwriter's constant-memory mode needs temporary files, which the
//! sandbox does not give a formatter.

mod sheets;

use std::collections::BTreeMap;

use inventag_formatter_kit::{
    Compliance, CoverageStats, RunFacts, Slot, Tally, outcome_name, sheet::SheetNamer,
    tally::problems_first,
};
use inventag_plugin_sdk::prelude::*;
use rust_xlsxwriter::{DocProperties, Format, FormatAlign, Workbook, Worksheet, XlsxError};

use crate::sheets::{Grid, TypeSheet, page_setup, text_cell};

/// The formatter, registered with the host by `export_formatter!`.
struct ExcelFormatter;

/// The workbook in progress.
struct Draft {
    facts: RunFacts,
    tally: Tally,
    /// One worksheet per service and resource type, filled as rows arrive.
    types: BTreeMap<(String, String), TypeSheet>,
}

static DRAFT: Slot<Draft> = Slot::new();

impl Formatter for ExcelFormatter {
    fn add_compliance(report: inventag_plugin_sdk::formatter::ComplianceReport) {
        inventag_formatter_kit::compliance::keep(report);
    }

    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "excel".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "The bill of materials as an Excel workbook (xlsx)".to_string(),
            format: "excel".to_string(),
        }
    }

    fn begin(run: RunMetadata) {
        let draft =
            Draft { facts: RunFacts::new(run), tally: Tally::default(), types: BTreeMap::new() };
        if DRAFT.start(draft) {
            log::warn("begin called again before finish; the earlier workbook is dropped");
        }
    }

    fn add_resources(batch: Vec<Resource>) {
        let added = DRAFT.with(|draft| {
            for r in &batch {
                draft.tally.add(r);
                let key = (r.service.clone(), r.resource_type.clone());
                let sheet = draft.types.entry(key).or_insert_with(TypeSheet::new);
                if let Err(e) = sheet.add(r, draft.facts.account_name(&r.account_id)) {
                    log::warn(format!(
                        "a {} {} row was not written: {e}",
                        r.service, r.resource_type
                    ));
                }
            }
        });
        if added.is_none() {
            log::error(format!("{} resources arrived before begin; dropped", batch.len()));
        }
    }

    fn finish(coverage: Vec<TargetCoverage>) -> Result<Document, String> {
        let draft = DRAFT.take().ok_or_else(|| "finish called without begin".to_string())?;
        let bytes = draft.into_workbook(&coverage).map_err(|e| format!("xlsx: {e}"))?;
        Ok(Document {
            bytes: inventag_formatter_kit::deliver(bytes)?,
            extension: "xlsx".to_string(),
            media_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                .to_string(),
        })
    }
}

export_formatter!(ExcelFormatter);

impl Draft {
    /// Names and orders the sheets, writes the summary, coverage and
    /// compliance sheets, and saves the workbook to bytes.
    fn into_workbook(self, coverage: &[TargetCoverage]) -> Result<Vec<u8>, XlsxError> {
        let Draft { facts, tally, types } = self;
        let stats = CoverageStats::of(coverage);
        let compliance = Compliance::for_document(&tally, &stats);

        let mut namer = SheetNamer::new();
        let summary_name = namer.name("Summary");
        let coverage_name = namer.name("Coverage");
        let compliance_name = namer.name("Compliance");
        let mut type_sheets = Vec::with_capacity(types.len());
        let mut notes = Vec::new();
        for ((service, resource_type), sheet) in types {
            let wanted = if tally.types_of(&service) > 1 {
                format!("{service} {resource_type}")
            } else {
                service.clone()
            };
            let name = namer.name(&wanted);
            if let Some(note) = sheet.note() {
                notes.push(format!("{name}: {note}"));
            }
            type_sheets.push((name, service, resource_type, sheet));
        }

        let mut workbook = Workbook::new();
        let title = "inventag bill of materials";
        workbook.set_properties(
            &DocProperties::new()
                .set_title(title)
                .set_subject(text_cell(&format!("Run {}", facts.run.run_id)).as_ref())
                .set_comment("Written by the inventag excel formatter"),
        );

        let mut summary = Worksheet::new();
        page_setup(&mut summary);
        summary.set_print_fit_to_pages(1, 0);
        summary.set_name(&summary_name)?;
        let sheet_index: Vec<(String, String, String)> = type_sheets
            .iter()
            .map(|(name, service, ty, _)| (name.clone(), service.clone(), ty.clone()))
            .collect();
        write_summary(&mut summary, &facts, &tally, &stats, &sheet_index, &notes)?;
        workbook.push_worksheet(summary);

        for (name, _, _, sheet) in type_sheets {
            workbook.push_worksheet(sheet.finish(&name)?);
        }

        let mut cov = Worksheet::new();
        page_setup(&mut cov);
        cov.set_print_fit_to_pages(1, 0);
        cov.set_name(&coverage_name)?;
        write_coverage(&mut cov, coverage)?;
        workbook.push_worksheet(cov);

        let mut comp = Worksheet::new();
        page_setup(&mut comp);
        comp.set_print_fit_to_pages(1, 0);
        comp.set_name(&compliance_name)?;
        write_compliance(&mut comp, &compliance)?;
        workbook.push_worksheet(comp);

        workbook.save_to_buffer()
    }
}

/// The Summary sheet: metadata as label/value rows, then the tallies as
/// tables, one under the other.
fn write_summary(
    ws: &mut Worksheet,
    facts: &RunFacts,
    tally: &Tally,
    stats: &CoverageStats,
    sheets: &[(String, String, String)],
    notes: &[String],
) -> Result<(), XlsxError> {
    let title = Format::new().set_bold().set_font_size(16);
    let label = Format::new().set_bold().set_align(FormatAlign::Top);
    let run = &facts.run;
    let mut g = Grid::new(ws);
    g.ws().write_string_with_format(0, 0, "inventag bill of materials", &title)?;
    let mut row = 2;
    let accounts: Vec<String> = run
        .accounts
        .iter()
        .map(|a| match &a.credential_method {
            Some(m) => format!("{} {} ({m})", a.account_id, a.account_name),
            None => format!("{} {} (no credentials)", a.account_id, a.account_name),
        })
        .collect();
    let pairs: Vec<(&str, String)> = vec![
        ("Run id", run.run_id.clone()),
        ("Started", run.started_at.clone()),
        ("Finished", run.finished_at.clone()),
        ("inventag version", run.inventag_version.clone()),
        ("Environment", run.environment.clone()),
        ("Accounts", accounts.join("\n")),
        ("Regions", run.regions.join(", ")),
        ("Collectors", run.collectors.join(", ")),
        ("Resources", tally.total.to_string()),
        (
            "Coverage",
            format!(
                "{} of {} targets ok ({}); {} denied, {} incomplete, {} failed",
                stats.ok,
                stats.targets,
                stats.ok_percent(),
                stats.denied,
                stats.incomplete,
                stats.failed
            ),
        ),
    ];
    for (k, v) in pairs {
        g.ws().write_string_with_format(row, 0, k, &label)?;
        g.value(row, &v)?;
        row += 1;
    }
    for note in notes {
        g.ws().write_string_with_format(row, 0, "Note", &label)?;
        g.value(row, note)?;
        row += 1;
    }
    row += 1;

    let by_service: Vec<Vec<Cell>> = tally
        .by_service
        .iter()
        .map(|(s, n)| vec![Cell::Text(s.clone()), Cell::Count(*n)])
        .collect();
    row = g.table(row, &["Service", "Resources"], &by_service)? + 2;
    let by_type: Vec<Vec<Cell>> = sheets
        .iter()
        .map(|(name, s, t)| {
            let n = tally.by_type.get(&(s.clone(), t.clone())).copied().unwrap_or(0);
            vec![
                Cell::Text(s.clone()),
                Cell::Text(t.clone()),
                Cell::Count(n),
                Cell::Text(name.clone()),
            ]
        })
        .collect();
    row = g.table(row, &["Service", "Resource type", "Resources", "Sheet"], &by_type)? + 2;
    let by_account: Vec<Vec<Cell>> = tally
        .by_account
        .iter()
        .map(|(a, n)| {
            vec![
                Cell::Text(a.clone()),
                Cell::Text(facts.account_name(a).to_string()),
                Cell::Count(*n),
            ]
        })
        .collect();
    row = g.table(row, &["Account ID", "Account name", "Resources"], &by_account)? + 2;
    let by_region: Vec<Vec<Cell>> =
        tally.by_region.iter().map(|(r, n)| vec![Cell::Text(r.clone()), Cell::Count(*n)]).collect();
    g.table(row, &["Region", "Resources"], &by_region)?;
    g.fit_widths(&[34.0, 34.0, 14.0, 32.0])
}

/// The Coverage sheet: one row per target, problems first.
fn write_coverage(ws: &mut Worksheet, coverage: &[TargetCoverage]) -> Result<(), XlsxError> {
    let rows: Vec<Vec<Cell>> = problems_first(coverage)
        .into_iter()
        .map(|c| {
            vec![
                Cell::Text(c.account_id.clone()),
                Cell::Text(c.account_name.clone()),
                Cell::Text(c.region.clone()),
                Cell::Text(c.collector.clone()),
                Cell::Text(outcome_name(c.outcome).to_string()),
                Cell::Count(c.resources),
                Cell::Text(c.messages.join("\n")),
            ]
        })
        .collect();
    let mut g = Grid::new(ws);
    g.table(
        0,
        &["Account ID", "Account name", "Region", "Collector", "Outcome", "Resources", "Messages"],
        &rows,
    )?;
    g.ws().set_freeze_panes(1, 0)?;
    g.fit_widths(&[16.0, 30.0, 16.0, 24.0, 12.0, 12.0, 80.0])
}

/// The Compliance sheet: the note, then one row per control.
fn write_compliance(ws: &mut Worksheet, compliance: &Compliance) -> Result<(), XlsxError> {
    let mut g = Grid::new(ws);
    let note = Format::new().set_bold().set_font_color("#9C0006").set_background_color("#FFC7CE");
    g.ws().merge_range(0, 0, 0, 3, &text_cell(&compliance.note), &note)?;
    let rows: Vec<Vec<Cell>> = compliance
        .items
        .iter()
        .map(|i| {
            vec![
                Cell::Text(i.control.clone()),
                Cell::Text(i.status.label().to_string()),
                Cell::Text(i.detail.clone()),
                Cell::Text(i.source.clone()),
            ]
        })
        .collect();
    g.table(2, &["Control", "Status", "Detail", "Source"], &rows)?;
    g.fit_widths(&[34.0, 14.0, 70.0, 34.0])
}

/// A summary-table cell.
pub(crate) enum Cell {
    /// Text, written as a string.
    Text(String),
    /// A count, written as a number.
    Count(u64),
}
