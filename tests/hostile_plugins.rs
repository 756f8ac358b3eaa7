//! Hostile plugins are contained, each with a clear message, and the rest
//! of the run is whole. The `hostile` test plugin runs each of its parts
//! as a target of its own beside the real EC2 collector: a loop, memory
//! growth, a flood of records, an oversized record, a write, an undeclared
//! operation, malformed regions, an unknown service, file and environment
//! reads, a trap, a panic and an AWS call that never gets an answer. The
//! coverage record of the hostile collector must name each case, nothing
//! it tried may reach the wire, and the EC2 data must equal what moto
//! holds.
//!
//! The sandbox's file, environment and socket cases are probed in depth by
//! `plugin_sandbox.rs`, and the validator's denials with their audit and
//! compliance records by `validator_end_to_end.rs`; here each case is one
//! line of the same run.

mod common;

use std::{collections::BTreeMap, time::Instant};

use serde_json::Value;

type Key = (String, String, String, String);

fn key(v: &Value) -> Key {
    let s = |f: &str| v[f].as_str().unwrap_or_default().to_owned();
    (s("account_id"), s("region"), s("resource_type"), s("id"))
}

#[test]
fn every_hostile_part_is_stopped_with_its_reason_and_the_ec2_data_is_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let faults = common::proxy::Faults {
        hang: vec!["DescribeAvailabilityZones".into()],
        ..common::proxy::Faults::default()
    };
    let proxy = common::proxy::Proxy::with_faults(moto.url.trim_start_matches("http://"), faults);
    let plugins = common::plugin_set(
        tmp.path(),
        &[
            common::plugin_dir().join("collector-ec2.wasm"),
            common::plugin_dir().join("formatter-json.wasm"),
            common::test_plugin_dir().join("test-hostile.wasm"),
        ],
    );
    let out_dir = tmp.path().join("out");
    let started = Instant::now();
    let output = common::run_seeded(
        &moto,
        &seeded,
        &out_dir,
        &plugins,
        &[
            "--endpoint-url",
            &proxy.url,
            "--plugin-deadline",
            "8",
            "--plugin-memory",
            "64",
            "--plugin-max-records",
            "500",
            "--plugin-call-timeout",
            "2",
        ],
    );
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "expected a partial run:\n{stderr}");
    // Bounded: the loop and the unanswered call were stopped, not waited
    // out (the gateway's own timeout is 60 s per attempt, with retries).
    assert!(elapsed.as_secs() < 60, "the run took {elapsed:?}");

    let bom = common::read_json_bom(&out_dir);
    let coverage = bom["coverage"].as_array().unwrap();
    let hostile = coverage
        .iter()
        .find(|c| c["collector"].as_str().is_some_and(|n| n.starts_with("hostile@")))
        .expect("the hostile collector's coverage");
    assert_ne!(hostile["outcome"], "ok", "{hostile:#}");
    let messages: Vec<&str> =
        hostile["messages"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let has = |needle: &str| messages.iter().any(|m| m.contains(needle));
    let cases = [
        ("loop", "ran past its deadline and was stopped"),
        ("memory", "went over its memory cap"),
        ("flood", "reached the cap of 500 records for one target"),
        ("oversized", "over the cap of 1048576 bytes per record"),
        ("write", "ec2:TerminateInstances denied by rule not-read-only"),
        ("undeclared", "ec2:DescribeHosts denied by rule undeclared"),
        ("region", "region \"us-east-1.evil.example\": InvalidRegion"),
        ("region", "region \"../x\": InvalidRegion"),
        ("region", "region \"ap-southeast-9\": region-not-scanned"),
        ("service", "service: UnknownService"),
        ("trap and panic", "trapped: wasm trap: wasm `unreachable` instruction executed"),
        ("hang", "hang: HostCallTimeout: ec2:DescribeAvailabilityZones got no answer within 2.0s"),
    ];
    for (case, needle) in cases {
        assert!(has(needle), "{case}: no message with {needle:?} in {messages:#?}");
    }
    let traps = messages.iter().filter(|m| m.contains("`unreachable` instruction")).count();
    assert_eq!(traps, 2, "the trap and the panic each trap once: {messages:#?}");
    let sandbox = messages.iter().find(|m| m.contains("sandbox: read /etc/passwd")).unwrap();
    assert!(sandbox.contains("Err(") && sandbox.contains("env HOME: Err(NotPresent)"), "{sandbox}");

    // The flood kept exactly the cap; the oversized record was refused.
    let resources = bom["resources"].as_array().unwrap();
    let of_type = |t: &str| resources.iter().filter(|r| r["resource_type"] == t).count();
    assert_eq!(of_type("flood"), 500);
    assert_eq!(of_type("oversized"), 0);

    // Nothing of the refused calls reached the wire, and the unanswered
    // call was the only one to DescribeAvailabilityZones.
    let requests = proxy.requests();
    assert!(!requests.is_empty(), "the proxy saw no request at all");
    let mut hung = 0;
    for request in &requests {
        let body = String::from_utf8_lossy(&request.body);
        let head = format!("{} {:?}", request.request_line, request.headers);
        for forbidden in [
            "TerminateInstances",
            "DescribeHosts",
            "evil",
            "../x",
            "DescribeEverything",
            "ap-southeast-9",
        ] {
            assert!(
                !body.contains(forbidden) && !head.contains(forbidden),
                "{forbidden} reached the wire: {head} {body}"
            );
        }
        hung += usize::from(body.contains("Action=DescribeAvailabilityZones&"));
    }
    assert!(hung >= 1, "the hang part never called");
    // The call it gave up on is in the audit log all the same.
    let abandoned: Vec<Value> = common::audit_records(&out_dir)
        .into_iter()
        .filter(|r| r["operation"] == "DescribeAvailabilityZones")
        .collect();
    assert!(
        !abandoned.is_empty()
            && abandoned.iter().all(|r| r["verdict"] == "allowed"
                && r["error_code"] == "CallAbandoned"
                && r["part"] == "hang"),
        "{abandoned:#?}"
    );

    // The EC2 collector's data is exactly what moto holds, every target ok.
    let wanted: BTreeMap<Key, &Value> =
        common::expected_of(&seeded.manifest, &["ec2"]).into_iter().map(|e| (key(e), e)).collect();
    let got: BTreeMap<Key, &Value> =
        resources.iter().filter(|r| r["service"] == "ec2").map(|r| (key(r), r)).collect();
    assert_eq!(got.keys().collect::<Vec<_>>(), wanted.keys().collect::<Vec<_>>());
    for (k, want) in &wanted {
        assert_eq!(got[k]["tags"], want["tags"], "tags differ for {k:?}");
    }
    let ec2: Vec<&Value> =
        coverage.iter().filter(|c| c["collector"] != hostile["collector"]).collect();
    assert!(!ec2.is_empty() && ec2.iter().all(|c| c["outcome"] == "ok"), "{ec2:#?}");
}
