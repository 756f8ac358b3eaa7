//! Resilience against a misbehaving AWS: a proxy in front of moto
//! throttles and fails a share of the EC2 calls, or denies one account a
//! service, while another account's credentials are wrong. The BOM must
//! not lose healthy data, retries must stay bounded, and the coverage must
//! name every failure.

mod common;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Output,
};

use common::proxy::{Faults, Proxy};
use serde_json::Value;

fn run_through(proxy: &Proxy, profile_dir: &Path, accounts: &Path, out: &Path) -> Output {
    run_formats(proxy, profile_dir, accounts, out, &["json"])
}

/// The run's plugins: the collectors the EC2 fixture's ground truth is
/// complete for, and every formatter.
fn plugins(dir: &Path) -> PathBuf {
    let mut files = vec![common::collector("ec2"), common::collector("vpc")];
    for f in ["json", "csv", "markdown", "cyclonedx", "excel", "word"] {
        files.push(common::formatter(f));
    }
    common::plugin_set(dir, &files)
}

fn run_formats(
    proxy: &Proxy,
    profile_dir: &Path,
    accounts: &Path,
    out: &Path,
    formats: &[&str],
) -> Output {
    let plugins = plugins(out.parent().unwrap());
    let mut args = run_args(proxy, accounts, out, &plugins);
    args.push("--formats");
    args.extend_from_slice(formats);
    common::inventag(None, Some(profile_dir), &args, &[])
}

/// `inventag run` over `accounts` into `out` with the plugins of
/// `plugins`, every AWS call through `proxy`.
fn run_args<'a>(
    proxy: &'a Proxy,
    accounts: &'a Path,
    out: &'a Path,
    plugins: &'a Path,
) -> Vec<&'a str> {
    vec![
        "run",
        "--accounts-file",
        accounts.to_str().unwrap(),
        "--output-dir",
        out.to_str().unwrap(),
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--endpoint-url",
        &proxy.url,
    ]
}

/// `(account, region, type, id)` of every resource, with its tags.
fn identities(bom: &Value) -> BTreeSet<(String, String, String, String, String)> {
    bom["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |f: &str| r[f].as_str().unwrap_or_default().to_owned();
            (s("account_id"), s("region"), s("resource_type"), s("id"), r["tags"].to_string())
        })
        .collect()
}

#[test]
fn throttling_and_server_errors_leave_the_bom_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded =
        common::seed(&moto, tmp.path(), "111111111111,222222222222", "us-east-1,eu-west-1");
    let upstream = moto.url.trim_start_matches("http://").to_owned();

    let clean = Proxy::start(&upstream);
    let clean_out = tmp.path().join("clean");
    let out = run_through(&clean, &seeded.profile_dir, &seeded.accounts_file, &clean_out);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let clean_bom = common::read_json_bom(&clean_out);
    let clean_calls = clean.requests().len();

    let faults = Faults { throttle: 0.30, fail: 0.05, seed: 7, ..Faults::default() };
    let faulty = Proxy::with_faults(&upstream, faults);
    let faulty_out = tmp.path().join("faulty");
    let out = run_through(&faulty, &seeded.profile_dir, &seeded.accounts_file, &faulty_out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the run did not complete under faults:\n{stderr}");
    let faulty_bom = common::read_json_bom(&faulty_out);
    let faulty_calls = faulty.requests().len();
    let injected = faulty.injected();

    println!(
        "fault-free: {clean_calls} calls; with faults: {faulty_calls} calls ({} throttled, {} \
         server errors injected), {:.2}x",
        injected.throttled,
        injected.failed,
        faulty_calls as f64 / clean_calls as f64
    );
    // With 20-odd calls a run without a server error is common; one without
    // any fault is not (0.65^20 < 0.02%).
    assert!(injected.throttled + injected.failed > 0, "no fault was injected: {injected:?}");
    assert_eq!(identities(&faulty_bom), identities(&clean_bom), "the BOM changed under faults");
    assert!(!identities(&clean_bom).is_empty());
    for c in faulty_bom["coverage"].as_array().unwrap() {
        assert_eq!(c["outcome"], "ok", "{c}");
    }
    assert!(faulty_calls < 3 * clean_calls, "{faulty_calls} calls against {clean_calls}");
}

#[test]
fn bad_credentials_and_a_denied_service_cost_only_their_own_data() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded =
        common::seed(&moto, tmp.path(), "111111111111,222222222222,333333333333", "us-east-1");
    // Account 222's profile is replaced by keys moto files under another
    // account: the identity check must refuse them.
    let mut accounts: Value =
        serde_json::from_slice(&std::fs::read(&seeded.accounts_file).unwrap()).unwrap();
    for a in accounts["accounts"].as_array_mut().unwrap() {
        if a["account_id"] == "222222222222" {
            a["profile_name"] = "wrong-keys".into();
        }
    }
    let accounts_file = tmp.path().join("accounts-broken.json");
    std::fs::write(&accounts_file, accounts.to_string()).unwrap();
    let creds = seeded.profile_dir.join("credentials");
    let mut text = std::fs::read_to_string(&creds).unwrap();
    text.push_str(
        "\n[wrong-keys]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
         aws_secret_access_key = not-this-accounts-key\n",
    );
    std::fs::write(&creds, text).unwrap();

    // Account 333 may not describe volumes.
    let deny =
        vec![(common::profile_key(&seeded.profile_dir, "333333333333"), "DescribeVolumes".into())];
    let proxy = Proxy::with_faults(
        moto.url.trim_start_matches("http://"),
        Faults { deny, ..Faults::default() },
    );
    let out_dir = tmp.path().join("out");
    let formats = ["json", "csv", "markdown", "cyclonedx", "excel", "word"];
    let out = run_formats(&proxy, &seeded.profile_dir, &accounts_file, &out_dir, &formats);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "expected a partial run:\n{stderr}");
    assert!(proxy.injected().denied > 0, "the denial was never exercised");

    let bom = common::read_json_bom(&out_dir);
    let got = identities(&bom);
    let expected: BTreeSet<_> = common::expected_of(&seeded.manifest, &["ec2", "vpc"])
        .into_iter()
        .filter(|e| e["account_id"] != "222222222222")
        .filter(|e| !(e["account_id"] == "333333333333" && e["resource_type"] == "volume"))
        .map(|r| {
            let s = |f: &str| r[f].as_str().unwrap_or_default().to_owned();
            (s("account_id"), s("region"), s("resource_type"), s("id"), r["tags"].to_string())
        })
        .collect();
    assert_eq!(got, expected, "healthy data is not complete");
    assert!(got.iter().any(|k| k.0 == "111111111111") && got.iter().any(|k| k.0 == "333333333333"));

    let coverage = bom["coverage"].as_array().unwrap();
    let of = |account: &str| -> Vec<&Value> {
        coverage.iter().filter(|c| c["account_id"] == account).collect()
    };
    assert!(of("111111111111").iter().all(|c| c["outcome"] == "ok"));
    let bad = of("222222222222");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0]["outcome"], "failed");
    assert!(bad[0]["messages"].to_string().contains("belong to account 123456789012"), "{bad:?}");
    let denied = of("333333333333");
    let ec2 = denied.iter().find(|c| c["collector"].as_str().unwrap().starts_with("ec2@"));
    let ec2 = ec2.unwrap_or_else(|| panic!("no ec2 coverage: {denied:?}"));
    assert_eq!(ec2["outcome"], "incomplete", "{denied:?}");
    let messages = ec2["messages"].to_string();
    assert!(
        messages.contains("volume") && messages.contains("UnauthorizedOperation"),
        "{messages}"
    );
    // The VPC collector, which never describes volumes, is untouched.
    let others = denied.iter().filter(|c| !c["collector"].as_str().unwrap().starts_with("ec2@"));
    assert!(others.clone().count() > 0 && others.into_iter().all(|c| c["outcome"] == "ok"));
    assert!(stderr.contains("222222222222") && stderr.contains("333333333333"), "{stderr}");

    // Every other text output holds the same healthy data and names the
    // failures too.
    let text_of = |suffix: &str| -> String {
        let file = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.starts_with("inventag-bom-") && n.ends_with(suffix)
            })
            .unwrap_or_else(|| panic!("no {suffix} document"));
        std::fs::read_to_string(file).unwrap()
    };
    let csv = text_of(".csv");
    let rows: Vec<&str> = csv
        .lines()
        .filter(|l| {
            l.len() > 13 && l.as_bytes()[12] == b',' && l[..12].bytes().all(|b| b.is_ascii_digit())
        })
        .collect();
    assert_eq!(rows.len(), expected.len(), "the CSV rows differ from the healthy data");
    assert!(!rows.iter().any(|r| r.starts_with("222222222222,")));
    let cdx = text_of(".cdx.json");
    for (account, _, _, id, _) in &expected {
        let row = format!("{account},");
        assert!(rows.iter().any(|r| r.starts_with(&row) && r.contains(id.as_str())), "{id}");
        assert!(cdx.contains(id.as_str()), "{id} is missing from the CycloneDX document");
    }
    let md = text_of(".md");
    assert!(md.contains("222222222222") && md.contains("333333333333"), "{md}");
    for suffix in [".xlsx", ".docx"] {
        assert!(!text_of_bytes(&out_dir, suffix).is_empty(), "empty {suffix}");
    }
}

fn text_of_bytes(dir: &Path, suffix: &str) -> Vec<u8> {
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} document"));
    std::fs::read(file).unwrap()
}

#[test]
fn a_run_stopped_by_a_signal_leaves_no_half_document_and_audits_every_call() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let faults = Faults { hang: vec!["DescribeVolumes".into()], ..Faults::default() };
    let proxy = Proxy::with_faults(moto.url.trim_start_matches("http://"), faults);
    let plugins = common::plugin_set(
        tmp.path(),
        &[common::collector("ec2"), common::formatter("json"), common::formatter("excel")],
    );
    let out_dir = tmp.path().join("out");
    let mut args = run_args(&proxy, &seeded.accounts_file, &out_dir, &plugins);
    args.extend(["--formats", "json", "excel"]);
    let mut child = common::inventag_command(None, Some(&seeded.profile_dir), &args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // Stopped while a call hangs mid-collection.
    let waited = std::time::Instant::now();
    let hung = |p: &Proxy| {
        p.requests().iter().any(|r| String::from_utf8_lossy(&r.body).contains("DescribeVolumes"))
    };
    while !hung(&proxy) {
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            panic!("the run ended first:\n{}", String::from_utf8_lossy(&output.stderr));
        }
        assert!(waited.elapsed().as_secs() < 60, "the run never reached the hung call");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopped = std::time::Instant::now();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stopped.elapsed().as_secs() < 20, "took {:?} to stop", stopped.elapsed());
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped by SIGINT"), "{stderr}");

    // No document, finished or not, and no hidden piece of one.
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("inventag-audit-")),
        "the stopped run left {names:?}"
    );

    // Every request that left for AWS has its record, the hung one too.
    let records = common::audit_records(&out_dir);
    let allowed = records.iter().filter(|r| r["verdict"] == "allowed").count();
    assert_eq!(allowed, proxy.requests().len(), "{records:#?}");
    let volumes: Vec<&Value> =
        records.iter().filter(|r| r["operation"] == "DescribeVolumes").collect();
    assert!(volumes.len() == 1 && volumes[0]["error_code"] == "CallAbandoned", "{volumes:#?}");
}

#[test]
fn an_identity_check_given_up_on_still_has_its_audit_record() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let faults = Faults { hang: vec!["GetCallerIdentity".into()], ..Faults::default() };
    let proxy = Proxy::with_faults(moto.url.trim_start_matches("http://"), faults);
    let plugins =
        common::plugin_set(tmp.path(), &[common::collector("ec2"), common::formatter("json")]);
    let out_dir = tmp.path().join("out");
    let mut args = run_args(&proxy, &seeded.accounts_file, &out_dir, &plugins);
    args.extend(["--credential-timeout", "3"]);
    let output = common::inventag(None, Some(&seeded.profile_dir), &args, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let records = common::audit_records(&out_dir);
    let sent = proxy.requests().len();
    assert!(sent >= 1, "the identity check never left");
    assert_eq!(records.len(), sent, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| r["operation"] == "GetCallerIdentity" && r["error_code"] == "CallAbandoned"),
        "{records:#?}"
    );
}
