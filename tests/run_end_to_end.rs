//! A whole `inventag run` against moto: two accounts reached through
//! their own profiles, two regions each, the real EC2 and VPC collectors
//! and JSON formatter. The BOM must list exactly what moto holds of their
//! types (the defaults moto creates included), tags intact.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

type Key = (String, String, String, String);

fn key(v: &Value, type_field: &str) -> Key {
    let s = |f: &str| v[f].as_str().unwrap_or_default().to_owned();
    (s("account_id"), s("region"), s(type_field), s("id"))
}

#[test]
fn bom_lists_every_ec2_and_vpc_resource_of_both_accounts_and_regions_with_tags_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded =
        common::seed(&moto, tmp.path(), "111111111111,222222222222", "us-east-1,eu-west-1");
    let out_dir = tmp.path().join("out");
    let plugin_dir = common::plugin_set(
        tmp.path(),
        &[common::collector("ec2"), common::collector("vpc"), common::formatter("json")],
    );

    let output = common::run_json(Some(&moto), &seeded, &plugin_dir, &out_dir, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "inventag failed ({:?}):\n{stderr}", output.status.code());

    let bom = common::read_json_bom(&out_dir);
    let resources = bom["resources"].as_array().expect("resources array");
    let expected = common::expected_of(&seeded.manifest, &["ec2", "vpc"]);
    assert!(expected.len() >= 60, "the fixture should hold a real spread, got {}", expected.len());

    let wanted: BTreeMap<Key, &Value> =
        expected.iter().map(|e| (key(e, "resource_type"), *e)).collect();
    let got: BTreeMap<Key, &Value> =
        resources.iter().map(|r| (key(r, "resource_type"), r)).collect();
    assert_eq!(got.len(), resources.len(), "a resource appears twice in the BOM");
    let missing: Vec<_> = wanted.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !wanted.contains_key(*k)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");

    for (k, want) in &wanted {
        assert_eq!(got[k]["tags"], want["tags"], "tags differ for {k:?}");
        assert_eq!(got[k]["arn"], want["arn"], "ARNs differ for {k:?}");
        assert_eq!(got[k]["service"], "ec2");
    }
    // The defaults moto makes are there, marked: the default VPC, the
    // default security groups and each VPC's main route table.
    let marked = |t: &str, name: &str| {
        resources
            .iter()
            .filter(|r| r["resource_type"] == t && r["attributes"][name] == true)
            .count()
    };
    assert_eq!(marked("vpc", "is_default"), 4, "one default VPC per account and region");
    assert!(marked("security-group", "is_default") >= 8, "two VPCs' default groups each");
    assert!(marked("route-table", "main") >= 8, "two VPCs' main route tables each");

    let accounts: BTreeSet<&str> =
        resources.iter().filter_map(|r| r["account_id"].as_str()).collect();
    let regions: BTreeSet<&str> = resources.iter().filter_map(|r| r["region"].as_str()).collect();
    assert_eq!(accounts, BTreeSet::from(["111111111111", "222222222222"]));
    assert_eq!(regions, BTreeSet::from(["eu-west-1", "us-east-1"]));

    // The awkward tags the fixture seeds arrive as written.
    let all_tags: Vec<(&str, &str)> = resources
        .iter()
        .flat_map(|r| r["tags"].as_array().unwrap().iter())
        .map(|t| (t["key"].as_str().unwrap(), t["value"].as_str().unwrap()))
        .collect();
    assert!(all_tags.iter().any(|(_, v)| v.is_empty()), "an empty tag value was lost");
    assert!(all_tags.iter().any(|(k, _)| k.starts_with("aws:")), "an aws: key was lost");
    assert!(all_tags.iter().any(|(_, v)| v.starts_with('=')), "a value starting with = was lost");
    assert!(all_tags.iter().any(|(k, v)| !k.is_ascii() && !v.is_ascii()), "unicode tags were lost");

    // Every target is covered and ended ok: 2 accounts × 2 regions × 2
    // collectors.
    let coverage = bom["coverage"].as_array().expect("coverage array");
    assert_eq!(coverage.len(), 8, "{coverage:#?}");
    assert!(coverage.iter().all(|c| c["outcome"] == "ok"), "{coverage:#?}");
    assert_eq!(bom["schema_version"].as_str().map(|s| !s.is_empty()), Some(true));

    // The shipped plugins stay within the general standard.
    assert_eq!(bom["compliance"]["score"], 100, "{:#}", bom["compliance"]);
    assert_eq!(bom["compliance"]["summary"]["denied_calls"], 0);
}

#[test]
fn a_run_keeps_a_call_history_and_shrugs_off_a_damaged_history_or_an_unusable_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let plugin_dir =
        common::plugin_set(tmp.path(), &[common::collector("ec2"), common::formatter("json")]);
    let cache = tmp.path().join("cache");
    let history = cache.join("call-history.json");
    let run = |out: &str| {
        let out_dir = tmp.path().join(out);
        let args = ["--plugin-cache", cache.to_str().unwrap()];
        let output = common::run_json(Some(&moto), &seeded, &plugin_dir, &out_dir, &args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "inventag failed:\n{stderr}");
        std::fs::read_to_string(&history).expect("the run kept no call history")
    };

    let text = run("first");
    let counts: BTreeMap<String, u64> = serde_json::from_str(&text).expect("history is JSON");
    let parts = ["instance", "volume", "snapshot", "image", "key-pair", "elastic-ip"];
    for part in parts.iter().chain(&["network-interface"]) {
        let calls = counts.get(&format!("ec2/{part}")).copied();
        assert!(calls.is_some_and(|n| n >= 1), "ec2/{part}: {calls:?} in {text}");
    }
    assert_eq!(counts.len(), 7, "only the collector's parts: {text}");
    assert!(!text.contains("111111111111") && !text.contains("us-east-1"), "{text}");

    std::fs::write(&history, b"{\"ec2/instance\": \"many\"").unwrap();
    let again: BTreeMap<String, u64> = serde_json::from_str(&run("second")).unwrap();
    assert_eq!(again, counts, "a damaged history is replaced by the run's own counts");

    // A cache that cannot be made costs compile time, not the run.
    let blocked = tmp.path().join("a-file").join("cache");
    std::fs::write(tmp.path().join("a-file"), b"").unwrap();
    let out_dir = tmp.path().join("uncached");
    let args = ["--plugin-cache", blocked.to_str().unwrap()];
    let output = common::run_json(Some(&moto), &seeded, &plugin_dir, &out_dir, &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "an unusable cache stopped the run:\n{stderr}");
    assert!(stderr.contains("going on without it"), "{stderr}");
    let bom = common::read_json_bom(&out_dir);
    assert!(!bom["resources"].as_array().unwrap().is_empty());
}

#[test]
fn run_help_documents_every_flag() {
    let output = common::inventag(None, None, &["run", "--help"], &[]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--accounts-file",
        "--formats",
        "--output-dir",
        "--regions",
        "--plugin-dir",
        "--endpoint-url",
        "--concurrency",
        "--plugin-deadline",
        "--plugin-memory",
        "--log-level",
        "--quiet",
        "--verbose",
    ] {
        let line = help
            .lines()
            .find(|l| l.contains(flag))
            .unwrap_or_else(|| panic!("{flag} missing:\n{help}"));
        let described = help.split(flag).nth(1).is_some_and(|rest| rest.trim_start().len() > 20);
        assert!(described, "{flag} has no description: {line}");
    }
}

#[test]
fn a_collector_that_fails_to_load_is_named_in_the_boms_coverage() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let plugin_dir =
        common::plugin_set(tmp.path(), &[common::collector("ec2"), common::formatter("json")]);
    // Vetted (its digest is in the lock), but not a component at all.
    let junk = b"\0asm\x0d\0\x01\0 not really";
    std::fs::write(plugin_dir.join("collector-junk.wasm"), junk).unwrap();
    let lock_file = plugin_dir.join("inventag-plugins.lock");
    let mut lock: Value = serde_json::from_slice(&std::fs::read(&lock_file).unwrap()).unwrap();
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(junk))
    };
    lock["plugins"].as_array_mut().unwrap().push(serde_json::json!({
        "file": "collector-junk.wasm", "sha256": digest, "vetted": "by this test"
    }));
    std::fs::write(&lock_file, lock.to_string()).unwrap();

    let out_dir = tmp.path().join("out");
    let output = common::run_json(Some(&moto), &seeded, &plugin_dir, &out_dir, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "a run missing a collector is partial:\n{stderr}");
    let bom = common::read_json_bom(&out_dir);
    let coverage = bom["coverage"].as_array().unwrap();
    let missing = coverage
        .iter()
        .find(|c| c["collector"] == "plugin collector-junk.wasm")
        .unwrap_or_else(|| panic!("the junk plugin is not in the coverage: {coverage:#?}"));
    assert_eq!(missing["outcome"], "failed");
    assert!(missing["messages"][0].as_str().unwrap().starts_with("plugin not loaded"));
    // The collector that loaded did its work.
    assert!(
        coverage
            .iter()
            .any(|c| c["collector"].as_str().unwrap().starts_with("ec2@") && c["outcome"] == "ok")
    );
    assert!(!bom["resources"].as_array().unwrap().is_empty());
}
