//! `html`: the bill of materials as one self-contained HTML page.
//!
//! The page is written as the host hands the run over: `begin` writes the
//! head and the run's facts, each `add-resources` appends its rows to the
//! resource table through the host's `output` import (nothing is kept),
//! `add-compliance` keeps the report, and `finish` closes the table and
//! adds the coverage and compliance sections.
//!
//! Every value, whatever a tag or a plugin put in it, goes through
//! [`escape`]: `&`, `<`, `>`, `"` and `'` become character references and
//! control characters (but tab and line ends) U+FFFD, so no value can open
//! an element, leave an attribute or start a script. The page has no
//! script and forbids one with its Content-Security-Policy.

use std::{fmt::Write as _, sync::Mutex};

use inventag_plugin_sdk::prelude::*;

/// The formatter, registered with the host by `export_formatter!`.
struct Html;

/// The document between `begin` and `finish`.
struct Page {
    /// The compliance report, once given.
    compliance: Option<ComplianceReport>,
    /// The first write the host refused; the document is lost with it.
    failed: Option<String>,
}

static PAGE: Mutex<Option<Page>> = Mutex::new(None);

fn with_page(f: impl FnOnce(&mut Page)) {
    let mut page = PAGE.lock().unwrap_or_else(|p| p.into_inner());
    match page.as_mut() {
        Some(page) => f(page),
        None => log::error("a call arrived before begin; ignored"),
    }
}

/// Escapes `text` for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Appends `html` to the document, unless a write failed before.
fn write(page: &mut Page, html: &str) {
    if page.failed.is_none() {
        if let Err(e) = output::write(html.as_bytes()) {
            page.failed = Some(e);
        }
    }
}

/// One table row of escaped cells.
fn row(cells: &[&str]) -> String {
    let mut out = String::from("<tr>");
    for cell in cells {
        let _ = write!(out, "<td>{}</td>", escape(cell));
    }
    out.push_str("</tr>\n");
    out
}

const HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
style-src 'unsafe-inline'\">\n<title>inventag bill of materials</title>\n<style>\
body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}\
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\
th{background:#eee}</style></head><body>\n";

impl Formatter for Html {
    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "html".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            summary: "One self-contained HTML page: resources, coverage, compliance".into(),
            format: "html".into(),
        }
    }

    fn begin(run: RunMetadata) {
        let mut page = Page { compliance: None, failed: None };
        let mut html = String::from(HEAD);
        html.push_str("<h1>Bill of materials</h1>\n<table>\n");
        let accounts: Vec<String> =
            run.accounts.iter().map(|a| format!("{} ({})", a.account_id, a.account_name)).collect();
        for (what, value) in [
            ("Run", run.run_id.as_str()),
            ("Started", &run.started_at),
            ("Finished", &run.finished_at),
            ("inventag", &run.inventag_version),
            ("Environment", &run.environment),
            ("Accounts", &accounts.join(", ")),
            ("Regions", &run.regions.join(", ")),
            ("Collectors", &run.collectors.join(", ")),
        ] {
            html.push_str(&row(&[what, value]));
        }
        html.push_str(
            "</table>\n<h2>Resources</h2>\n<table>\n<tr><th>Account</th>\
            <th>Region</th><th>Service</th><th>Type</th><th>ID</th><th>Name</th>\
            <th>State</th><th>Tags</th></tr>\n",
        );
        write(&mut page, &html);
        *PAGE.lock().unwrap_or_else(|p| p.into_inner()) = Some(page);
    }

    fn add_resources(batch: Vec<Resource>) {
        with_page(|page| {
            let mut html = String::new();
            for r in &batch {
                let tags: Vec<String> =
                    r.tags.iter().map(|t| format!("{}={}", t.key, t.value)).collect();
                html.push_str(&row(&[
                    &r.account_id,
                    &r.region,
                    &r.service,
                    &r.resource_type,
                    &r.id,
                    r.name.as_deref().unwrap_or(""),
                    r.state.as_deref().unwrap_or(""),
                    &tags.join("\n"),
                ]));
            }
            write(page, &html);
        });
    }

    fn add_compliance(report: ComplianceReport) {
        with_page(|page| page.compliance = Some(report));
    }

    fn finish(coverage: Vec<TargetCoverage>) -> Result<Document, String> {
        let mut page = PAGE.lock().unwrap_or_else(|p| p.into_inner()).take();
        let page = page.as_mut().ok_or("finish called without begin")?;
        let mut html = String::from(
            "</table>\n<h2>Coverage</h2>\n<table>\n<tr><th>Account</th>\
            <th>Region</th><th>Collector</th><th>Outcome</th><th>Resources</th>\
            <th>Messages</th></tr>\n",
        );
        for c in &coverage {
            let outcome = match c.outcome {
                Outcome::Ok => "ok",
                Outcome::Denied => "denied",
                Outcome::Throttled => "throttled",
                Outcome::RegionDisabled => "region disabled",
                Outcome::Unsupported => "unsupported",
                Outcome::Incomplete => "incomplete",
                Outcome::Failed => "failed",
            };
            let resources = c.resources.to_string();
            html.push_str(&row(&[
                &c.account_id,
                &c.region,
                &c.collector,
                outcome,
                &resources,
                &c.messages.join("\n"),
            ]));
        }
        html.push_str("</table>\n");
        if let Some(report) = &page.compliance {
            let score = format!("{} of 100 under {}", report.score, report.standard);
            html.push_str("<h2>Compliance</h2>\n<table>\n");
            html.push_str(&row(&["Score", &score]));
            for f in &report.findings {
                let severity = match f.severity {
                    Severity::High => "high",
                    Severity::Medium => "medium",
                    Severity::Low => "low",
                };
                html.push_str(&row(&[severity, &f.kind, &f.message]));
            }
            html.push_str("</table>\n");
        }
        write(page, &html);
        if let Some(e) = page.failed.take() {
            return Err(e);
        }
        Ok(Document {
            bytes: b"</body></html>\n".to_vec(),
            extension: "html".into(),
            media_type: "text/html; charset=utf-8".into(),
        })
    }
}

export_formatter!(Html);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_quotes_and_ampersands_become_text() {
        assert_eq!(
            escape("<script>alert(\"x\")</script>"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape("a & 'b'"), "a &amp; &#39;b&#39;");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("tab\tline\nbell\u{7}"), "tab\tline\nbell\u{fffd}");
        assert_eq!(escape("名前 ✓"), "名前 ✓");
    }

    #[test]
    fn a_row_escapes_every_cell() {
        assert_eq!(row(&["<b>", "\"q\""]), "<tr><td>&lt;b&gt;</td><td>&quot;q&quot;</td></tr>\n");
    }
}
