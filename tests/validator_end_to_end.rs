//! The validator in a whole run against moto: the validator probe plugin
//! runs beside the real EC2 collector and tries `ec2:TerminateInstances`
//! on every instance, `s3:PutObject`, `iam:CreateUser`,
//! `secretsmanager:GetSecretValue` (all four declared) and the undeclared
//! `ec2:DescribeImages` (by `call` and by `paginate`). Every attempt must be
//! refused before anything is sent, whatever the service's protocol; each
//! must appear in the audit log and in the compliance report (the file and
//! the BOM's section); and the EC2 data must still match what moto holds.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use serde_json::Value;

/// The names the probe aims at; none may reach the audit log.
const PROBE_NAMES: [&str; 3] = ["probe-bucket-7c1d", "probe-user-7c1d", "probe-secret-7c1d"];

/// `(service, operation, how the probe called it, the rule that must deny it)`.
const ATTEMPTS: [(&str, &str, &str, &str); 6] = [
    ("ec2", "TerminateInstances", "call", "not-read-only"),
    ("s3", "PutObject", "call", "not-read-only"),
    ("iam", "CreateUser", "call", "not-read-only"),
    ("secretsmanager", "GetSecretValue", "call", "sensitive-read"),
    ("ec2", "DescribeImages", "call", "undeclared"),
    ("ec2", "DescribeImages", "paginate", "undeclared"),
];

fn only_file(dir: &Path, prefix: &str, extension: &str) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(prefix) && name.ends_with(extension)
        })
        .collect();
    assert_eq!(files.len(), 1, "expected one {prefix}*{extension} in {}: {files:?}", dir.display());
    files[0].clone()
}

type Key = (String, String, String, String);

fn key(v: &Value) -> Key {
    let s = |f: &str| v[f].as_str().unwrap_or_default().to_owned();
    (s("account_id"), s("region"), s("resource_type"), s("id"))
}

#[test]
fn denied_calls_are_never_sent_are_audited_and_reported_and_the_ec2_data_stays_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let proxy = common::proxy::Proxy::start(moto.url.trim_start_matches("http://"));
    let plugins = common::plugin_set(
        tmp.path(),
        &[
            common::collector("ec2"),
            common::formatter("json"),
            common::test_plugin_dir().join("test-validator-probe.wasm"),
        ],
    );
    let out_dir = tmp.path().join("out");
    let output =
        common::run_seeded(&moto, &seeded, &out_dir, &plugins, &["--endpoint-url", &proxy.url]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "inventag failed ({:?}):\n{stderr}", output.status.code());

    // The probe was told `denied`, with the expected rule, every time.
    let bom = common::read_json_bom(&out_dir);
    let resources = bom["resources"].as_array().unwrap();
    let probe =
        resources.iter().find(|r| r["service"] == "validator-probe").expect("the probe's record");
    assert!(probe["attributes"]["instances_seen"].as_u64().is_some_and(|n| n > 0), "{probe}");
    let told: Vec<(&str, &str, &str, &str, &str)> = probe["attributes"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["ok"], false, "the host let this through: {a}");
            let s = |f: &str| a[f].as_str().unwrap_or_default();
            (s("service"), s("operation"), s("via"), s("kind"), s("code"))
        })
        .collect();
    let expected: Vec<(&str, &str, &str, &str, &str)> =
        ATTEMPTS.iter().map(|(s, o, via, rule)| (*s, *o, *via, "denied", *rule)).collect();
    assert_eq!(told, expected);

    // Nothing of them was sent: the proxy saw only reads. (The EC2
    // collector reads images itself; the probe's DescribeImages are
    // counted against the audit log below.)
    let requests = proxy.requests();
    assert!(!requests.is_empty(), "the proxy saw no request at all");
    let mut images_on_the_wire = 0;
    for request in &requests {
        let body = String::from_utf8_lossy(&request.body);
        let head = format!("{} {:?}", request.request_line, request.headers);
        images_on_the_wire += usize::from(body.contains("Action=DescribeImages&"));
        for forbidden in ["TerminateInstances", "CreateUser", "GetSecretValue"] {
            assert!(
                !body.contains(forbidden) && !head.contains(forbidden),
                "{forbidden} reached the wire: {head} {body}"
            );
        }
        assert!(!request.request_line.starts_with("PUT "), "a PUT was sent: {head}");
        for name in PROBE_NAMES {
            assert!(!body.contains(name) && !head.contains(name), "{name} reached the wire");
        }
    }

    // The EC2 data is complete: exactly what moto holds, tags intact, and
    // no instance was terminated.
    let wanted: BTreeMap<Key, &Value> =
        common::expected_of(&seeded.manifest, &["ec2"]).into_iter().map(|e| (key(e), e)).collect();
    let got: BTreeMap<Key, &Value> =
        resources.iter().filter(|r| r["service"] == "ec2").map(|r| (key(r), r)).collect();
    assert_eq!(got.keys().collect::<Vec<_>>(), wanted.keys().collect::<Vec<_>>());
    for (k, want) in &wanted {
        assert_eq!(got[k]["tags"], want["tags"], "tags differ for {k:?}");
    }
    for instance in got.values().filter(|r| r["resource_type"] == "instance") {
        let state = instance["state"].as_str().unwrap_or_default();
        assert!(!matches!(state, "terminated" | "shutting-down"), "{instance}");
    }
    let coverage = bom["coverage"].as_array().unwrap();
    assert!(coverage.iter().all(|c| c["outcome"] == "ok"), "{coverage:#?}");

    // The audit log: one line per call, denials with their rules, reads
    // with their HTTP status, and nothing of any input.
    let run_id = bom["run"]["run_id"].as_str().unwrap();
    let audit_path = only_file(&out_dir, "inventag-audit-", ".jsonl");
    let audit_text = std::fs::read_to_string(&audit_path).unwrap();
    let audit: Vec<Value> = audit_text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for record in &audit {
        assert_eq!(record["run_id"], run_id, "{record}");
        for field in ["time", "plugin", "plugin_version", "account_id", "region", "verdict"] {
            assert!(record[field].as_str().is_some_and(|v| !v.is_empty()), "{field}: {record}");
        }
        assert!(record["duration_ms"].is_u64() && record["retries"].is_u64(), "{record}");
    }
    for name in PROBE_NAMES {
        assert!(!audit_text.contains(name), "{name}, part of an input, reached the audit log");
    }
    let denials: BTreeSet<(&str, &str, &str)> = audit
        .iter()
        .filter(|r| r["verdict"] == "denied")
        .map(|r| {
            assert_eq!(r["plugin"], "validator-probe", "{r}");
            assert!(r["http_status"].is_null(), "a denied call has an HTTP status: {r}");
            let s = |f: &str| r[f].as_str().unwrap_or_default();
            (s("service"), s("operation"), s("rule"))
        })
        .collect();
    let wanted_denials: BTreeSet<(&str, &str, &str)> =
        ATTEMPTS.iter().map(|(s, o, _, rule)| (*s, *o, *rule)).collect();
    assert_eq!(denials, wanted_denials);
    let images = |verdict: &'static str| {
        audit.iter().filter(move |r| r["operation"] == "DescribeImages" && r["verdict"] == verdict)
    };
    assert_eq!(images("denied").count(), 2, "one record per attempt, call and paginate");
    // Every DescribeImages sent was the EC2 collector's, attempt by attempt.
    let sent: u64 = images("allowed")
        .map(|r| {
            assert_eq!(r["plugin"], "ec2", "{r}");
            1 + r["retries"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(images_on_the_wire as u64, sent, "a DescribeImages was sent for the probe");
    let reads: Vec<&Value> =
        audit.iter().filter(|r| r["verdict"] == "allowed" && r["plugin"] == "ec2").collect();
    let read_ops: BTreeSet<&str> = reads.iter().filter_map(|r| r["operation"].as_str()).collect();
    // The EC2 collector called every operation it declares, and only those.
    let declared = common::load_plugins(&plugins);
    let ec2 = declared.collectors.iter().find(|c| c.info.name == "ec2").expect("ec2 loaded");
    let ec2_ops: BTreeSet<&str> = ec2
        .info
        .calls
        .iter()
        .filter(|(service, _)| service == "ec2")
        .flat_map(|(_, ops)| ops.iter().map(String::as_str))
        .collect();
    assert_eq!(read_ops, ec2_ops);
    assert!(
        reads.iter().all(|r| r["http_status"] == 200 && r["rule"] == "read-only"),
        "{reads:#?}"
    );
    // The host's own credential check, made through the AWS SDK, is there
    // too, under its own rule.
    let identity = audit
        .iter()
        .find(|r| r["plugin"] == "inventag" && r["operation"] == "GetCallerIdentity")
        .expect("the host's STS call is audited");
    assert_eq!(identity["service"], "sts");
    assert_eq!(identity["rule"], "host-credentials");
    assert_eq!(identity["account_id"], "111111111111");
    assert_eq!(identity["http_status"], 200);

    // The compliance report, as a file and as the BOM's section.
    let report_path = only_file(&out_dir, "inventag-compliance-", ".json");
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["run_id"], run_id);
    assert_eq!(report["standard"], "general");
    let blocked: BTreeSet<(&str, &str, &str, &str)> = report["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let s = |f: &str| b[f].as_str().unwrap_or_default();
            (s("plugin"), s("service"), s("operation"), s("rule"))
        })
        .collect();
    let probe_label = "validator-probe@0.1.0";
    let wanted_blocked: BTreeSet<(&str, &str, &str, &str)> =
        ATTEMPTS.iter().map(|(s, o, _, rule)| (probe_label, *s, *o, *rule)).collect();
    assert_eq!(blocked, wanted_blocked);
    let denied_ops: BTreeSet<&str> = report["operations"]["denied"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["operation"].as_str())
        .collect();
    assert_eq!(denied_ops.len(), 5, "{denied_ops:?}");
    let summary = &report["summary"];
    let (high, medium, low) = (
        summary["high"].as_u64().unwrap(),
        summary["medium"].as_u64().unwrap(),
        summary["low"].as_u64().unwrap(),
    );
    // Four blocked high-severity calls, the undeclared read, and the four
    // declared operations the standard never grants.
    assert_eq!((high, medium, low), (4, 1, 4));
    assert_eq!(report["score"].as_u64(), Some(100 - 15 * high - 5 * medium - low));
    assert_eq!(summary["denied_calls"], 6);

    let section = &bom["compliance"];
    assert_eq!(section["score"], report["score"]);
    assert_eq!(section["standard"], "general");
    // The two DescribeImages attempts share one entry.
    assert_eq!(section["blocked"].as_array().map(Vec::len), Some(5), "{section:#}");
    let images = report["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["operation"] == "DescribeImages")
        .unwrap();
    assert_eq!(images["attempts"], 2);
    assert_eq!(section["summary"]["denied_calls"], 6);
    assert_eq!(section["findings"][0]["severity"], "high");
}

#[test]
fn audit_log_goes_to_the_file_given_and_records_the_standard_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let out_dir = tmp.path().join("out");
    let plugins =
        common::plugin_set(tmp.path(), &[common::collector("ec2"), common::formatter("json")]);
    let audit_file = tmp.path().join("audit.jsonl");
    // A line from an earlier run stays: the file is appended to.
    std::fs::write(&audit_file, "{\"run_id\":\"earlier\"}\n").unwrap();
    let output = common::inventag(
        Some(&moto),
        Some(&seeded.profile_dir),
        &[
            "run",
            "--accounts-file",
            seeded.accounts_file.to_str().unwrap(),
            "--output-dir",
            out_dir.to_str().unwrap(),
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--standard",
            "pci",
            "--audit-log",
            audit_file.to_str().unwrap(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "inventag failed ({:?}):\n{stderr}", output.status.code());

    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("inventag-audit-")), "{names:?}");
    let bom = common::read_json_bom(&out_dir);
    assert_eq!(bom["compliance"]["standard"], "pci");
    assert_eq!(bom["compliance"]["score"], 100);

    let text = std::fs::read_to_string(&audit_file).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["run_id"], "earlier");
    let run_id = bom["run"]["run_id"].as_str().unwrap();
    let ours: Vec<&Value> = lines.iter().filter(|l| l["run_id"] == run_id).collect();
    assert_eq!(ours.len(), lines.len() - 1);
    assert!(ours.iter().all(|l| l["standard"] == "pci" && l["verdict"] == "allowed"), "{ours:#?}");
    assert!(ours.iter().any(|l| l["operation"] == "DescribeInstances"));
}
