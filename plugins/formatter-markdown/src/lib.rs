//! The `markdown` formatter: a short summary of the run in GitHub-flavoured
//! Markdown, fit for a CI job summary (append it to
//! `$GITHUB_STEP_SUMMARY`).
//!
//! It lists the run, the totals, resources by service, by type (the
//! largest 50), by account and by region, the targets that did not end
//! `ok` (the first 50), and the compliance section. It lists no single
//! resource: the other formats do, and a job summary is capped at 1 MiB.
//!
//! Every value is made safe for Markdown by [`md`]: the control-character
//! rule of [`inventag_formatter_kit::text::clean`], line breaks turned into
//! spaces, cut to 200 characters, and each of ``\ ` * _ [ ] ( ) < > | ! & ~
//! @ # $ :`` escaped with a backslash, so that no value can open a link,
//! an autolink, an HTML tag or entity, a mention, emphasis, code, maths or
//! a new table cell. (Values never start a line, so list and heading
//! markers need no escape.)

use std::collections::BTreeMap;
use std::fmt::Write as _;

use inventag_formatter_kit::{
    Compliance, ComplianceStatus, CoverageStats, RunFacts, Slot, Tally, outcome_name, text,
};
use inventag_plugin_sdk::prelude::*;

/// The formatter, registered with the host by `export_formatter!`.
struct MarkdownFormatter;

/// The longest value shown, in characters.
const MAX_VALUE: usize = 200;
/// The most rows of a long list.
const MAX_ROWS: usize = 50;

/// The characters [`md`] escapes.
const MARKDOWN_SPECIAL: &str = "\\`*_[]()<>|!&~@#$:";

/// What the summary needs, gathered as batches arrive.
struct Draft {
    facts: RunFacts,
    tally: Tally,
}

static DRAFT: Slot<Draft> = Slot::new();

/// A value made safe for a Markdown table cell or line.
fn md(value: &str) -> String {
    let cleaned = text::clean(value);
    let one_line: String =
        cleaned.chars().map(|c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c }).collect();
    let short = text::ellipsis(one_line.trim(), MAX_VALUE);
    let mut out = String::with_capacity(short.len() + 8);
    for c in short.chars() {
        if MARKDOWN_SPECIAL.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Appends a table with `headers` and `rows` (already escaped), or a line
/// saying there is nothing.
fn table(out: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        out.push_str("_None._\n\n");
        return;
    }
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let _ = writeln!(out, "|{}", headers.iter().map(|_| " --- |").collect::<String>());
    for cells in rows {
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// The largest `MAX_ROWS` entries of a count map, largest first.
fn top<K: Clone>(map: &BTreeMap<K, u64>) -> (Vec<(K, u64)>, usize) {
    let mut v: Vec<(K, u64)> = map.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let hidden = v.len().saturating_sub(MAX_ROWS);
    v.truncate(MAX_ROWS);
    (v, hidden)
}

fn more(out: &mut String, hidden: usize) {
    if hidden > 0 {
        let _ = writeln!(out, "_…and {hidden} more in the other documents._\n");
    }
}

impl Draft {
    fn render(&self, coverage: &[TargetCoverage]) -> String {
        let run = &self.facts.run;
        let stats = CoverageStats::of(coverage);
        let mut out = String::with_capacity(16 << 10);
        out.push_str("# inventag bill of materials\n\n");
        let verdict = if stats.complete() { "✅ Complete" } else { "⚠️ Partial" };
        let _ = writeln!(
            out,
            "**{verdict}**: {} resources; {} of {} targets ok ({}).\n",
            self.tally.total,
            stats.ok,
            stats.targets,
            stats.ok_percent()
        );

        let accounts: Vec<String> = run
            .accounts
            .iter()
            .map(|a| format!("{} {}", md(&a.account_id), md(&a.account_name)))
            .collect();
        let facts = vec![
            vec!["Run id".to_string(), md(&run.run_id)],
            vec!["Started".to_string(), md(&run.started_at)],
            vec!["Finished".to_string(), md(&run.finished_at)],
            vec!["inventag".to_string(), md(&run.inventag_version)],
            vec!["Environment".to_string(), md(&run.environment)],
            vec!["Accounts".to_string(), accounts.join("; ")],
            vec!["Regions".to_string(), md(&run.regions.join(", "))],
            vec!["Collectors".to_string(), md(&run.collectors.join(", "))],
            vec![
                "Coverage".to_string(),
                format!(
                    "{} ok, {} denied, {} incomplete, {} failed",
                    stats.ok, stats.denied, stats.incomplete, stats.failed
                ),
            ],
        ];
        table(&mut out, &["Run", ""], &facts);

        out.push_str("## Resources by service\n\n");
        let (rows, hidden) = top(&self.tally.by_service);
        let rows: Vec<Vec<String>> = rows.iter().map(|(s, n)| vec![md(s), n.to_string()]).collect();
        table(&mut out, &["Service", "Resources"], &rows);
        more(&mut out, hidden);

        out.push_str("## Resources by type\n\n");
        let (rows, hidden) = top(&self.tally.by_type);
        let rows: Vec<Vec<String>> =
            rows.iter().map(|((s, t), n)| vec![md(s), md(t), n.to_string()]).collect();
        table(&mut out, &["Service", "Type", "Resources"], &rows);
        more(&mut out, hidden);

        out.push_str("## Resources by account\n\n");
        let (rows, hidden) = top(&self.tally.by_account);
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|(a, n)| vec![md(a), md(self.facts.account_name(a)), n.to_string()])
            .collect();
        table(&mut out, &["Account ID", "Account name", "Resources"], &rows);
        more(&mut out, hidden);

        out.push_str("## Resources by region\n\n");
        let (rows, hidden) = top(&self.tally.by_region);
        let rows: Vec<Vec<String>> = rows.iter().map(|(r, n)| vec![md(r), n.to_string()]).collect();
        table(&mut out, &["Region", "Resources"], &rows);
        more(&mut out, hidden);

        out.push_str("## Coverage problems\n\n");
        let problems: Vec<&TargetCoverage> =
            coverage.iter().filter(|c| c.outcome != Outcome::Ok).collect();
        let rows: Vec<Vec<String>> = problems
            .iter()
            .take(MAX_ROWS)
            .map(|c| {
                vec![
                    md(&c.account_id),
                    md(&c.account_name),
                    md(&c.region),
                    md(&c.collector),
                    outcome_name(c.outcome).to_string(),
                    md(&c.messages.join("; ")),
                ]
            })
            .collect();
        table(&mut out, &["Account ID", "Account", "Region", "Collector", "Outcome", "Why"], &rows);
        more(&mut out, problems.len().saturating_sub(MAX_ROWS));

        let compliance = Compliance::for_document(&self.tally, &stats);
        out.push_str(if compliance.provisional {
            "## Compliance (provisional)\n\n"
        } else {
            "## Compliance\n\n"
        });
        let _ = writeln!(out, "> {}\n", md(&compliance.note));
        let rows: Vec<Vec<String>> = compliance
            .items
            .iter()
            .map(|i| {
                let mark = match i.status {
                    ComplianceStatus::Pass => "✅ pass",
                    ComplianceStatus::Fail => "❌ fail",
                    ComplianceStatus::Info => "ℹ️ info",
                    ComplianceStatus::NotEvaluated => "➖ not evaluated",
                };
                vec![md(&i.control), mark.to_string(), md(&i.detail)]
            })
            .collect();
        table(&mut out, &["Control", "Status", "Detail"], &rows);
        out
    }
}

impl Formatter for MarkdownFormatter {
    fn add_compliance(report: inventag_plugin_sdk::formatter::ComplianceReport) {
        inventag_formatter_kit::compliance::keep(report);
    }

    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "markdown".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "A Markdown summary of the run, for CI job summaries".to_string(),
            format: "markdown".to_string(),
        }
    }

    fn begin(run: RunMetadata) {
        if DRAFT.start(Draft { facts: RunFacts::new(run), tally: Tally::default() }) {
            log::warn("begin called again before finish; the earlier summary is dropped");
        }
    }

    fn add_resources(batch: Vec<Resource>) {
        let added = DRAFT.with(|draft| batch.iter().for_each(|r| draft.tally.add(r)));
        if added.is_none() {
            log::error(format!("{} resources arrived before begin; dropped", batch.len()));
        }
    }

    fn finish(coverage: Vec<TargetCoverage>) -> Result<Document, String> {
        let draft = DRAFT.take().ok_or_else(|| "finish called without begin".to_string())?;
        Ok(Document {
            bytes: inventag_formatter_kit::deliver(draft.render(&coverage).into_bytes())?,
            extension: "md".to_string(),
            media_type: "text/markdown; charset=utf-8".to_string(),
        })
    }
}

export_formatter!(MarkdownFormatter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_break_out_of_a_cell() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("[x](http://e)"), "\\[x\\]\\(http\\://e\\)");
        assert_eq!(md("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(md("2026-12-04T16:25:36Z"), "2026-12-04T16\\:25\\:36Z");
        assert_eq!(md("$x$ ~y~ `z` a\\b"), "\\$x\\$ \\~y\\~ \\`z\\` a\\\\b");
        assert_eq!(md("line\r\nnext"), "line  next");
        assert_eq!(md("\u{1b}[31m"), "\u{241b}\\[31m");
        assert_eq!(md("@team"), "\\@team");
        assert_eq!(md(&"x".repeat(500)).chars().count(), MAX_VALUE);
    }
}
