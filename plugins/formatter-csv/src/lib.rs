//! The `csv` formatter: the bill of materials as one long CSV file, one
//! row per resource, whatever its type.
//!
//! The host writes one document per formatter, so every resource type
//! shares one file; the `service` and `resource_type` columns tell them
//! apart. The file is UTF-8 with a byte-order mark (so that Excel reads it
//! as UTF-8), CR LF line ends, and RFC 4180 quoting: a field holding a
//! comma, a double quote, CR or LF is put in double quotes, with each
//! double quote doubled. Columns:
//!
//! ```text
//! account_id,account_name,region,service,resource_type,id,name,state,
//! created_at,arn,tags,attributes
//! ```
//!
//! `tags` is a JSON object of the tags in AWS's order (a key repeated on
//! one resource is kept as a repeated key), each key and value through the
//! control-character rule first; `attributes` is the type's attributes as
//! the collector wrote them (JSON, in which a control character inside a
//! string is already a `\u001b`-style escape). Every field goes through the
//! control-character rule of [`inventag_formatter_kit::text::clean`] and
//! then the formula rule of
//! [`inventag_formatter_kit::text::neutralise`]: a field starting with `=`,
//! `+`, `-`, `@`, tab or CR gets a leading apostrophe. Values are never
//! cut. Rows are written as batches arrive; the resources are not kept.

use inventag_formatter_kit::{Chunked, RunFacts, Slot, text};
use inventag_plugin_sdk::prelude::*;

/// The formatter, registered with the host by `export_formatter!`.
struct CsvFormatter;

/// The header row.
const HEADER: [&str; 12] = [
    "account_id",
    "account_name",
    "region",
    "service",
    "resource_type",
    "id",
    "name",
    "state",
    "created_at",
    "arn",
    "tags",
    "attributes",
];

/// The file in progress.
struct Draft {
    facts: RunFacts,
    out: Chunked,
}

static DRAFT: Slot<Draft> = Slot::new();

/// Appends one field, cleaned, neutralised and quoted as needed.
fn field(out: &mut Chunked, value: &str) {
    let cleaned = text::clean(value);
    let value = text::neutralise(&cleaned);
    if value.contains([',', '"', '\r', '\n']) {
        out.push(b'"');
        for part in value.split('"').enumerate() {
            if part.0 > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.1.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(value.as_bytes());
    }
}

/// Appends one row of fields and its CR LF.
fn row<'a>(out: &mut Chunked, fields: impl IntoIterator<Item = &'a str>) {
    for (i, value) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        field(out, value);
    }
    out.extend_from_slice(b"\r\n");
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// The tags as a JSON object, keys in order, repeats kept.
fn tags_json(tags: &[Tag]) -> String {
    let mut out = String::from("{");
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::from(text::clean(&t.key)).to_string());
        out.push(':');
        out.push_str(&serde_json::Value::from(text::clean(&t.value)).to_string());
    }
    out.push('}');
    out
}

impl Formatter for CsvFormatter {
    /// CSV holds resources only; the compliance report is in the JSON,
    /// Excel, Word and Markdown documents.
    fn add_compliance(_report: inventag_plugin_sdk::formatter::ComplianceReport) {}

    fn describe() -> FormatterInfo {
        FormatterInfo {
            name: "csv".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "The bill of materials as one CSV file, a row per resource".to_string(),
            format: "csv".to_string(),
        }
    }

    fn begin(run: RunMetadata) {
        let mut out = Chunked::new();
        out.extend_from_slice("\u{feff}".as_bytes());
        row(&mut out, HEADER);
        if DRAFT.start(Draft { facts: RunFacts::new(run), out }) {
            log::warn("begin called again before finish; the earlier file is dropped");
        }
    }

    fn add_resources(batch: Vec<Resource>) {
        let added = DRAFT.with(|draft| {
            for r in &batch {
                let tags = tags_json(&r.tags);
                let fields = [
                    r.account_id.as_str(),
                    draft.facts.account_name(&r.account_id),
                    &r.region,
                    &r.service,
                    &r.resource_type,
                    &r.id,
                    opt(&r.name),
                    opt(&r.state),
                    opt(&r.created_at),
                    opt(&r.arn),
                    &tags,
                    &r.attributes,
                ];
                row(&mut draft.out, fields);
            }
        });
        if added.is_none() {
            log::error(format!("{} resources arrived before begin; dropped", batch.len()));
        }
    }

    fn finish(_coverage: Vec<TargetCoverage>) -> Result<Document, String> {
        let draft = DRAFT.take().ok_or_else(|| "finish called without begin".to_string())?;
        Ok(Document {
            bytes: draft.out.finish()?,
            extension: "csv".to_string(),
            media_type: "text/csv; charset=utf-8; header=present".to_string(),
        })
    }
}

export_formatter!(CsvFormatter);

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> String {
        let mut out = Chunked::new();
        field(&mut out, value);
        String::from_utf8(out.finish().unwrap()).unwrap_or_default()
    }

    #[test]
    fn fields_are_neutralised_then_quoted() {
        assert_eq!(one("plain"), "plain");
        assert_eq!(one("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
        assert_eq!(one("-1+1"), "'-1+1");
        assert_eq!(one("\r\nx"), "\"'\r\nx\"");
        assert_eq!(one("a,b"), "\"a,b\"");
        assert_eq!(one("\u{1b}[31m"), "\u{241b}[31m");
        assert_eq!(one(""), "");
    }

    #[test]
    fn tags_keep_order_and_repeats() {
        let t = |k: &str, v: &str| Tag { key: k.into(), value: v.into() };
        assert_eq!(
            tags_json(&[t("b", "1"), t("a", "\""), t("b", "")]),
            r#"{"b":"1","a":"\"","b":""}"#
        );
        assert_eq!(tags_json(&[t("c\u{1b}", "\u{b}")]), "{\"c\u{241b}\":\"\u{240b}\"}");
        assert_eq!(tags_json(&[]), "{}");
    }
}
