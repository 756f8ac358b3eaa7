//! A collector runs with nothing: no files, no environment, no sockets,
//! no stdio. The sandbox probe plugin tries each and records what
//! happened; every attempt must fail, and the run must still deliver the
//! EC2 collector's data in full.

mod common;

use std::{
    collections::BTreeSet,
    io::Read,
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use serde_json::Value;

const SENTINEL: &str = "sentinel-value-that-must-not-leak-7f3a";

#[test]
fn sandboxed_collector_gets_an_error_for_files_env_and_sockets_and_the_run_keeps_other_data() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let plugins = common::plugin_set(
        tmp.path(),
        &[
            common::collector("ec2"),
            common::formatter("json"),
            common::test_plugin_dir().join("test-sandbox-probe.wasm"),
        ],
    );

    // Something real to reach: a listener on the port the probe dials.
    let accepted = Arc::new(AtomicBool::new(false));
    let listener = TcpListener::bind("127.0.0.1:47811").ok();
    if let Some(listener) = &listener {
        listener.set_nonblocking(true).unwrap();
    }
    let out_dir = tmp.path().join("out");
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
        ],
        &[("INVENTAG_SANDBOX_SENTINEL", SENTINEL), ("AWS_SECRET_ACCESS_KEY", SENTINEL)],
    );
    if let Some(listener) = &listener {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 16];
            let _ = s.read(&mut buf);
            accepted.store(true, Ordering::Relaxed);
        }
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "inventag failed:\n{stderr}");
    assert!(!accepted.load(Ordering::Relaxed), "the plugin reached a loopback socket");

    let bom = common::read_json_bom(&out_dir);
    let text = bom.to_string();
    assert!(!text.contains(SENTINEL), "an environment value reached the BOM");
    assert!(
        !stdout.contains("sandbox-probe") && !stderr.contains("hello from the probe"),
        "plugin stdio leaked"
    );

    let resources = bom["resources"].as_array().unwrap();
    let probe =
        resources.iter().find(|r| r["service"] == "sandbox-probe").expect("the probe record");
    let attempts = probe["attributes"]["attempts"].as_array().expect("attempts");
    let tried: Vec<&str> = attempts.iter().filter_map(|a| a["what"].as_str()).collect();
    for needed in [
        "/etc/hostname",
        "/etc/passwd",
        "HOME",
        "AWS_SECRET_ACCESS_KEY",
        "INVENTAG_SANDBOX_SENTINEL",
        "47811",
    ] {
        assert!(
            tried.iter().any(|w| w.contains(needed)),
            "the probe did not try {needed}: {tried:?}"
        );
    }
    for attempt in attempts {
        let what = attempt["what"].as_str().unwrap_or_default();
        if what.starts_with("print") {
            continue; // printing succeeds into a closed pipe; checked above
        }
        assert_eq!(attempt["ok"], false, "the sandbox let this through: {attempt}");
    }
    assert_eq!(probe["attributes"]["env_var_count"], 0);
    assert!(probe["attributes"]["vpcs_seen"].as_u64().is_some_and(|n| n >= 1), "{probe}");

    // The EC2 collector's data is complete despite the probe.
    let arn = |v: &&Value| v["arn"].as_str().map(str::to_owned);
    let expected: BTreeSet<String> =
        common::expected_of(&seeded.manifest, &["ec2"]).iter().filter_map(arn).collect();
    let ec2: BTreeSet<String> =
        resources.iter().filter(|r| r["service"] == "ec2").filter_map(|r| arn(&r)).collect();
    assert!(!expected.is_empty());
    assert_eq!(ec2, expected);
    let coverage = bom["coverage"].as_array().unwrap();
    assert!(coverage.iter().all(|c| c["outcome"] == "ok"), "{coverage:#?}");
}
