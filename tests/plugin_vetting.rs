//! Plugin vetting end to end: a changed byte or an unknown plugin stops the
//! run before anything happens, naming the file and digests; a signed build
//! runs without a lock entry; `--allow-unvetted` runs an unknown plugin
//! and marks the run; the component cache makes the second run compile
//! nothing; and `inventag plugins` lists, inspects and vets.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An accounts file naming a profile that exists nowhere: a run that got
/// past vetting would fail on it, later.
fn offline_accounts(dir: &Path) -> PathBuf {
    let file = dir.join("accounts.json");
    let body = r#"{"accounts":[{"account_id":"111111111111","profile_name":"none-such"}]}"#;
    std::fs::write(&file, body).unwrap();
    file
}

fn run_offline(plugins: &Path, accounts: &Path, out: &Path) -> std::process::Output {
    common::inventag(
        None,
        None,
        &[
            "run",
            "--accounts-file",
            accounts.to_str().unwrap(),
            "--output-dir",
            out.to_str().unwrap(),
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--regions",
            "us-east-1",
        ],
        &[],
    )
}

#[test]
fn one_changed_byte_in_a_vetted_plugin_makes_the_run_refuse_it_naming_both_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let original = common::plugin_dir().join("collector-ec2.wasm");
    let plugins = common::plugin_set(
        tmp.path(),
        &[original.clone(), common::plugin_dir().join("formatter-json.wasm")],
    );
    let copy = plugins.join("collector-ec2.wasm");
    let mut bytes = std::fs::read(&copy).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&copy, &bytes).unwrap();

    let out = tmp.path().join("out");
    let output = run_offline(&plugins, &offline_accounts(tmp.path()), &out);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(copy.to_str().unwrap()), "the file is not named: {stderr}");
    assert!(stderr.contains(&format!("sha256 {}", sha256(&copy))), "{stderr}");
    assert!(stderr.contains(&format!("the lock expects sha256 {}", sha256(&original))), "{stderr}");
    assert!(stderr.contains("altered"), "{stderr}");
    assert!(!out.exists(), "a refused run created its output directory");
    assert!(!stderr.contains("none-such"), "the run went on to credentials: {stderr}");
}

#[test]
fn a_plugin_missing_from_the_lock_is_refused_naming_its_file_and_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = common::plugin_set(
        tmp.path(),
        &[
            common::plugin_dir().join("collector-ec2.wasm"),
            common::plugin_dir().join("formatter-json.wasm"),
        ],
    );
    let stranger = plugins.join("stranger.wasm");
    std::fs::copy(common::test_plugin_dir().join("test-sandbox-probe.wasm"), &stranger).unwrap();

    let out = tmp.path().join("out");
    let output = run_offline(&plugins, &offline_accounts(tmp.path()), &out);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} (sha256 {}) is not vetted",
            stranger.display(),
            sha256(&stranger)
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-unvetted"), "{stderr}");
    assert!(!stderr.contains("collector-ec2.wasm ("), "a vetted plugin was named: {stderr}");
}

#[test]
fn vet_shows_each_declared_operation_with_its_verdict_and_asks_before_writing_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    let probe = dir.join("validator-probe.wasm");
    std::fs::copy(common::test_plugin_dir().join("test-validator-probe.wasm"), &probe).unwrap();
    let lock = dir.join("inventag-plugins.lock");
    let vet = |extra: &[&str]| {
        let mut args = vec!["plugins", "vet", probe.to_str().unwrap()];
        args.extend_from_slice(extra);
        common::inventag(None, None, &args, &[])
    };

    // No terminal and no --yes: shown, refused, nothing written.
    let output = vet(&[]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("--yes"), "{}", text(&output.stderr));
    assert!(!lock.exists());
    assert!(stdout.contains(&format!("sha256:   {}", sha256(&probe))), "{stdout}");
    assert!(stdout.contains("status:   unvetted"), "{stdout}");
    let row = |verdict: &str, op: &str, rule: &str| {
        stdout.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.len() >= 3 && words[0] == verdict && words[1] == op && words[2].starts_with(rule)
        })
    };
    assert!(row("allowed", "ec2:DescribeInstances", "read-only"), "{stdout}");
    assert!(row("DENIED", "ec2:TerminateInstances", "not-read-only"), "{stdout}");
    assert!(row("DENIED", "secretsmanager:GetSecretValue", "sensitive-read"), "{stdout}");

    // With --yes the lock gets the entry, read back as JSON.
    let output = vet(&["--yes"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let written: Value = serde_json::from_slice(&std::fs::read(&lock).unwrap()).unwrap();
    let entry = &written["plugins"][0];
    assert_eq!(entry["file"], "validator-probe.wasm");
    assert_eq!(entry["sha256"], sha256(&probe));
    assert_eq!(entry["plugin"], "validator-probe@0.1.0");
    assert_eq!(entry["kind"], "collector");

    // `list` now sees it locked, with its declaration from `describe`.
    let output = common::inventag(
        None,
        None,
        &["plugins", "list", "--plugin-dir", dir.to_str().unwrap(), "--format", "json"],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let plugin = &listed[0];
    assert_eq!(plugin["status"], "locked");
    assert_eq!(plugin["sha256"], sha256(&probe));
    assert_eq!(plugin["declaration"]["name"], "validator-probe");
    assert_eq!(plugin["declaration"]["kind"], "collector");
    assert_eq!(plugin["declaration"]["wit_version"], "0.1.2");
    let calls = plugin["declaration"]["calls"].to_string();
    assert!(calls.contains("TerminateInstances"), "{calls}");
}

#[test]
fn a_signed_build_runs_without_a_lock_entry_and_an_unvetted_one_only_when_allowed_and_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let plugins = common::plugin_set(
        tmp.path(),
        &[
            common::plugin_dir().join("collector-ec2.wasm"),
            common::plugin_dir().join("formatter-json.wasm"),
        ],
    );
    let probe = plugins.join("sandbox-probe.wasm");
    std::fs::copy(common::test_plugin_dir().join("test-sandbox-probe.wasm"), &probe).unwrap();

    // A team key signs the probe; the private key never shows.
    let key = tmp.path().join("team.key");
    let keygen = common::inventag(
        None,
        None,
        &["plugins", "keygen", "--out", key.to_str().unwrap(), "--comment", "team"],
        &[],
    );
    assert!(keygen.status.success(), "{}", text(&keygen.stderr));
    let private = std::fs::read_to_string(&key).unwrap();
    let secret = private.lines().nth(1).unwrap();
    for stream in [&keygen.stdout, &keygen.stderr] {
        assert!(!text(stream).contains(secret), "keygen printed the private key");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let sign = common::inventag(
        None,
        None,
        &["plugins", "sign", probe.to_str().unwrap(), "--key", key.to_str().unwrap()],
        &[],
    );
    assert!(sign.status.success(), "{}", text(&sign.stderr));
    let trusted = tmp.path().join("team.key.pub");

    let cache = tmp.path().join("cache");
    let run = |out: &str, extra: &[&str]| {
        let out_dir = tmp.path().join(out);
        let mut args = vec!["--plugin-cache", cache.to_str().unwrap()];
        args.extend_from_slice(extra);
        let output = common::run_seeded(&moto, &seeded, &out_dir, &plugins, &args);
        (output, out_dir)
    };

    // Signed by a trusted key: it runs, nothing is marked, all compiled.
    let (output, out_dir) = run("signed", &["--trusted-keys", trusted.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("plugins: 0 from the cache, 3 compiled"), "{stderr}");
    let bom = common::read_json_bom(&out_dir);
    assert!(bom["resources"].as_array().unwrap().iter().any(|r| r["service"] == "sandbox-probe"));
    let findings = bom["compliance"]["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["kind"] != "unvetted-plugin"), "{findings:#?}");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode, 0o700, "the cache directory is not private");

    // Without the key it is unvetted: refused, then run under
    // --allow-unvetted, marked, and compiled by nobody this time.
    let (output, _) = run("refused", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains(&format!("(sha256 {}) is not vetted", sha256(&probe))));
    let (output, out_dir) = run("allowed", &["--allow-unvetted"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("plugins: 3 from the cache, 0 compiled"), "{stderr}");
    assert!(stderr.contains("WARN") && stderr.contains("--allow-unvetted"), "{stderr}");
    assert!(
        stderr.contains("unvetted plugin ran (--allow-unvetted): sandbox-probe@0.1.0"),
        "{stderr}"
    );
    let bom = common::read_json_bom(&out_dir);
    let finding = bom["compliance"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unvetted-plugin")
        .expect("an unvetted-plugin finding");
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["plugin"], "sandbox-probe@0.1.0");
    assert!(finding["message"].as_str().unwrap().contains(&sha256(&probe)), "{finding}");
    assert!(bom["compliance"]["score"].as_u64().unwrap() <= 85);
}
