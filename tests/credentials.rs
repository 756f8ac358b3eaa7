//! Credential resolution against moto, through the real binary: every
//! source of the documented order reaches its account, role assumption
//! carries the external id and session name, the identity check refuses
//! another account's keys, an open accounts file is refused with its fix,
//! and no secret shows up in any output, log or file.

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Output,
};

use common::{Moto, inventag, proxy::Proxy};
use serde_json::{Value, json};

/// Keys that moto issued for one account.
#[derive(Clone)]
struct Keys {
    key_id: String,
    secret: String,
    token: String,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn sts(moto: &Moto, key: &str, secret: &str) -> aws_sdk_sts::Client {
    let creds = aws_sdk_sts::config::Credentials::new(key, secret, None, None, "test");
    let conf = aws_sdk_sts::config::Builder::new()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(creds)
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// Temporary keys acting in `account`, by AssumeRole through moto.
fn keys_for(moto: &Moto, account: &str) -> Keys {
    runtime().block_on(async {
        let out = sts(moto, "AKIAIOSFODNN7EXAMPLE", "test-base-secret")
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/test-keys"))
            .role_session_name("test-keys")
            .send()
            .await
            .expect("moto AssumeRole");
        let c = out.credentials().expect("credentials");
        Keys {
            key_id: c.access_key_id().to_owned(),
            secret: c.secret_access_key().to_owned(),
            token: c.session_token().to_owned(),
        }
    })
}

/// Stores a credentials secret in moto's default account.
fn put_secret(moto: &Moto, name: &str, keys: &Keys) {
    runtime().block_on(async {
        let creds = aws_sdk_secretsmanager::config::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "test-base-secret",
            None,
            None,
            "test",
        );
        let conf = aws_sdk_secretsmanager::config::Builder::new()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&moto.url)
            .credentials_provider(creds)
            .build();
        let value = json!({
            "aws_access_key_id": keys.key_id,
            "aws_secret_access_key": keys.secret,
            "aws_session_token": keys.token,
        });
        aws_sdk_secretsmanager::Client::from_conf(conf)
            .create_secret()
            .name(name)
            .secret_string(value.to_string())
            .send()
            .await
            .expect("moto CreateSecret");
    });
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// An AWS config directory with the given profiles.
fn profiles(dir: &Path, credentials: &str, config: &str) -> PathBuf {
    let aws = dir.join("aws");
    std::fs::create_dir_all(&aws).unwrap();
    write_private(&aws.join("credentials"), credentials);
    write_private(&aws.join("config"), config);
    aws
}

fn check_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "accounts check printed no JSON ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn row<'a>(report: &'a Value, account: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account_id"] == account)
        .unwrap_or_else(|| panic!("no row for {account} in {report}"))
}

/// Base keys in the process environment: the default chain's source, and
/// the source roles without a profile are assumed from. moto files them
/// under its default account.
const BASE: [(&str, &str); 2] =
    [("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "test-base-secret")];
const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";

#[test]
fn every_source_reaches_its_account() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.url.trim_start_matches("http://"));
    let dir = tempfile::tempdir().unwrap();

    let k444 = keys_for(&moto, "444444444444");
    let k666 = keys_for(&moto, "666666666666");
    let env_keys: Vec<Keys> = ["700000000001", "700000000002", "700000000003", "700000000004"]
        .iter()
        .map(|a| keys_for(&moto, a))
        .collect();
    let k801 = keys_for(&moto, "800000000001");
    let k802 = keys_for(&moto, "800000000002");
    put_secret(&moto, "inventag/credentials/800000000001", &k801);
    put_secret(&moto, "team/custom-keys", &k802);

    let aws = profiles(
        dir.path(),
        &format!(
            "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
             aws_secret_access_key = test-base-secret\n\n\
             [acct-444]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
             aws_session_token = {}\n",
            k444.key_id, k444.secret, k444.token
        ),
        "[profile base]\nregion = us-east-1\n\n[profile acct-444]\nregion = us-east-1\n\n\
         [profile chain-555]\nrole_arn = arn:aws:iam::555555555555:role/Chained\n\
         source_profile = base\nregion = us-east-1\n",
    );
    let accounts = json!({"accounts": [
        {"account_id": "222222222222", "account_name": "Second",
         "role_arn": "arn:aws:iam::222222222222:role/InvenTagCrossAccountRole",
         "external_id": "ext-id-for-222"},
        {"account_id": "333333333333", "account_name": "Third",
         "role_arn": "arn:aws:iam::333333333333:role/InvenTagCrossAccountRole",
         "external_id": "ext-id-for-333", "profile_name": "base"},
        {"account_id": "444444444444", "account_name": "Static Profile", "profile_name": "acct-444"},
        {"account_id": "555555555555", "account_name": "Chained Profile", "profile_name": "chain-555"},
        {"account_id": "666666666666", "account_name": "File Keys",
         "access_key_id": k666.key_id, "secret_access_key": k666.secret,
         "session_token": k666.token},
        {"account_id": "700000000001", "account_name": "By Id"},
        {"account_id": "700000000002", "account_name": "Env Name Account"},
        {"account_id": "700000000003", "account_name": "Reverse-Pattern"},
        {"account_id": "700000000004", "account_name": "Short"},
        {"account_id": "800000000001", "account_name": "Secret By Id"},
        {"account_id": "800000000002", "account_name": "Secret Named"},
        {"account_id": MOTO_DEFAULT_ACCOUNT, "account_name": "Default Chain"},
    ]});
    let file = dir.path().join("accounts.json");
    write_private(&file, &accounts.to_string());

    let mut env: Vec<(String, String)> = Vec::new();
    let mut put = |pairs: [(String, &str); 3]| {
        for (k, v) in pairs {
            env.push((k, v.to_owned()));
        }
    };
    let e = &env_keys;
    put([
        ("AWS_ACCESS_KEY_ID_700000000001".into(), &e[0].key_id),
        ("AWS_SECRET_ACCESS_KEY_700000000001".into(), &e[0].secret),
        ("AWS_SESSION_TOKEN_700000000001".into(), &e[0].token),
    ]);
    put([
        ("AWS_ACCESS_KEY_ID_ENV_NAME_ACCOUNT".into(), &e[1].key_id),
        ("AWS_SECRET_ACCESS_KEY_ENV_NAME_ACCOUNT".into(), &e[1].secret),
        ("AWS_SESSION_TOKEN_ENV_NAME_ACCOUNT".into(), &e[1].token),
    ]);
    put([
        ("REVERSE_PATTERN_AWS_ACCESS_KEY_ID".into(), &e[2].key_id),
        ("REVERSE_PATTERN_AWS_SECRET_ACCESS_KEY".into(), &e[2].secret),
        ("REVERSE_PATTERN_AWS_SESSION_TOKEN".into(), &e[2].token),
    ]);
    put([
        ("AWS_ACCESS_KEY_ID_0004".into(), &e[3].key_id),
        ("AWS_SECRET_ACCESS_KEY_0004".into(), &e[3].secret),
        ("AWS_SESSION_TOKEN_0004".into(), &e[3].token),
    ]);
    env.push(("INVENTAG_SECRET_SECRET_NAMED".into(), "team/custom-keys".into()));
    env.extend(BASE.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let out = inventag(
        None,
        Some(&aws),
        &[
            "accounts",
            "check",
            "--accounts-file",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--secrets-manager",
            "on",
            "--endpoint-url",
            &proxy.url,
        ],
        &env_refs,
    );
    let report = check_json(&out);
    assert!(out.status.success(), "not every account resolved:\n{report:#}");

    let expect = [
        ("222222222222", "role_arn"),
        ("333333333333", "role_arn"),
        ("444444444444", "profile_name"),
        ("555555555555", "profile_name"),
        ("666666666666", "accounts_file_keys"),
        ("700000000001", "environment_variables"),
        ("700000000002", "environment_variables"),
        ("700000000003", "environment_variables"),
        ("700000000004", "environment_variables"),
        ("800000000001", "secrets_manager"),
        ("800000000002", "secrets_manager"),
        (MOTO_DEFAULT_ACCOUNT, "default_chain"),
    ];
    for (account, method) in expect {
        let r = row(&report, account);
        assert_eq!(r["status"], "ok", "{r:#}");
        assert_eq!(r["method"], method, "{account}: {r:#}");
        let arn = r["caller_arn"].as_str().unwrap();
        assert!(arn.contains(&format!("::{account}:")), "{account}: caller {arn}");
    }
    // The winning environment pattern is the one that was set.
    let used = |account: &str| {
        row(&report, account)["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["outcome"] == "used")
            .unwrap()["target"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(used("700000000001"), "AWS_ACCESS_KEY_ID_700000000001");
    assert_eq!(used("700000000002"), "AWS_ACCESS_KEY_ID_ENV_NAME_ACCOUNT");
    assert_eq!(used("700000000003"), "REVERSE_PATTERN_AWS_ACCESS_KEY_ID");
    assert_eq!(used("700000000004"), "AWS_ACCESS_KEY_ID_0004");
    assert_eq!(used("800000000001"), "inventag/credentials/800000000001");
    assert_eq!(used("800000000002"), "team/custom-keys");

    // Sessions are named after the account; the external id went to STS.
    for account in ["222222222222", "333333333333"] {
        let arn = row(&report, account)["caller_arn"].as_str().unwrap().to_owned();
        assert!(
            arn.ends_with(&format!("assumed-role/InvenTagCrossAccountRole/inventag-{account}")),
            "{arn}"
        );
        let sent: Vec<String> = proxy
            .requests()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .filter(|b| b.contains("Action=AssumeRole") && b.contains(account))
            .collect();
        assert!(!sent.is_empty(), "no AssumeRole for {account} went through the proxy");
        for body in &sent {
            assert!(body.contains(&format!("ExternalId=ext-id-for-{}", &account[..3])), "{body}");
            assert!(body.contains(&format!("RoleSessionName=inventag-{account}")), "{body}");
            assert!(body.contains("DurationSeconds=3600"), "{body}");
        }
    }
    // Secrets were only read where the file asks for Secrets Manager.
    let gets = proxy
        .requests()
        .iter()
        .filter(|r| r.headers.iter().any(|(_, v)| v == "secretsmanager.GetSecretValue"))
        .count();
    assert!(gets >= 2, "expected Secrets Manager reads, saw {gets}");
}

#[test]
fn wrong_or_missing_credentials_fail_only_their_account() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let k444 = keys_for(&moto, "444444444444");
    let accounts = json!({"accounts": [
        {"account_id": "444444444444", "account_name": "Good"},
        {"account_id": "999999999999", "account_name": "Mixed Up"},
        {"account_id": "888888888888", "account_name": "Half"},
    ]});
    let file = dir.path().join("accounts.json");
    write_private(&file, &accounts.to_string());
    let env = [
        ("AWS_ACCESS_KEY_ID_444444444444", k444.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY_444444444444", k444.secret.as_str()),
        ("AWS_SESSION_TOKEN_444444444444", k444.token.as_str()),
        // 444's keys under 999's name: the identity check must refuse them.
        ("AWS_ACCESS_KEY_ID_999999999999", k444.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY_999999999999", k444.secret.as_str()),
        ("AWS_SESSION_TOKEN_999999999999", k444.token.as_str()),
        ("AWS_ACCESS_KEY_ID_888888888888", "AKIAIOSFODNN7EXAMPLE"),
    ];
    let out = inventag(
        Some(&moto),
        None,
        &["accounts", "check", "--accounts-file", file.to_str().unwrap(), "--format", "json"],
        &env,
    );
    assert!(!out.status.success(), "a failed account must make the check fail");
    let report = check_json(&out);
    assert_eq!(row(&report, "444444444444")["status"], "ok");
    let mixed = row(&report, "999999999999");
    assert_eq!(mixed["status"], "failed");
    let error = mixed["error"].as_str().unwrap();
    assert!(error.contains("belong to account 444444444444"), "{error}");
    let half = row(&report, "888888888888");
    let error = half["error"].as_str().unwrap();
    assert!(error.contains("AWS_SECRET_ACCESS_KEY_888888888888"), "{error}");

    // The text form names every failed attempt.
    let out = inventag(
        Some(&moto),
        None,
        &["accounts", "check", "--accounts-file", file.to_str().unwrap()],
        &env,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("999999999999") && text.contains("failed"), "{text}");
    assert!(text.contains("AWS_SECRET_ACCESS_KEY_888888888888 is not"), "{text}");
}

#[test]
fn keys_in_an_open_accounts_file_are_refused_with_the_fix() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_for(&moto, "666666666666");
    let file = dir.path().join("accounts.json");
    let accounts = json!({"accounts": [{"account_id": "666666666666",
        "access_key_id": keys.key_id, "secret_access_key": keys.secret,
        "session_token": keys.token}]});
    std::fs::write(&file, accounts.to_string()).unwrap();
    let args = ["accounts", "check", "--accounts-file", file.to_str().unwrap(), "--format", "json"];

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = inventag(Some(&moto), None, &args, &[]);
    assert!(!out.status.success());
    let report = check_json(&out);
    let error = row(&report, "666666666666")["error"].as_str().unwrap().to_owned();
    assert!(error.contains("mode 644") && error.contains("chmod 600"), "{error}");
    assert!(error.contains(".gitignore"), "{error}");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = inventag(Some(&moto), None, &args, &[]);
    let report = check_json(&out);
    assert!(out.status.success(), "{report:#}");
    assert_eq!(row(&report, "666666666666")["method"], "accounts_file_keys");
}

/// Every file under `dir`, read as text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

#[test]
fn no_secret_reaches_any_output_log_or_file() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let k222 = keys_for(&moto, "222222222222");
    let k444 = keys_for(&moto, "444444444444");
    // moto takes any keys as its default account; these are sentinels.
    let file_key = "AKIASENTINELFILE7777";
    let file_secret = "sentinel-file-secret-Zq8";
    let file_token = "sentinel-file-token-Xv3";
    let external_id = "sentinel-external-id-Kp5";
    let base_secret = "sentinel-base-secret-Wm2";
    let accounts = json!({"accounts": [
        {"account_id": MOTO_DEFAULT_ACCOUNT, "account_name": "File",
         "access_key_id": file_key, "secret_access_key": file_secret,
         "session_token": file_token, "regions": ["us-east-1"]},
        {"account_id": "333333333333", "account_name": "Role",
         "role_arn": "arn:aws:iam::333333333333:role/InvenTagCrossAccountRole",
         "external_id": external_id, "regions": ["us-east-1"]},
        {"account_id": "222222222222", "account_name": "Env", "regions": ["us-east-1"]},
        {"account_id": "444444444444", "account_name": "Secret", "regions": ["us-east-1"]},
        {"account_id": "555555555555", "account_name": "Chain", "profile_name": "chain",
         "regions": ["us-east-1"]},
    ]});
    put_secret(&moto, "inventag/credentials/444444444444", &k444);
    // A profile role chain whose external id and source keys are secrets
    // too: the SDK describes such chains in its own log events.
    let chain_external_id = "sentinel-chain-external-Qd7";
    let chain_secret = "sentinel-chain-source-secret-Hy4";
    let aws = profiles(
        dir.path(),
        &format!(
            "[chain-source]\naws_access_key_id = AKIASENTINELCHAIN999\n\
             aws_secret_access_key = {chain_secret}\n"
        ),
        &format!(
            "[profile chain]\nrole_arn = arn:aws:iam::555555555555:role/Chained\n\
             source_profile = chain-source\nexternal_id = {chain_external_id}\n\
             region = us-east-1\n"
        ),
    );
    let file = dir.path().join("accounts.json");
    write_private(&file, &accounts.to_string());
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIASENTINELBASE8888"),
        ("AWS_SECRET_ACCESS_KEY", base_secret),
        ("AWS_ACCESS_KEY_ID_222222222222", k222.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY_222222222222", k222.secret.as_str()),
        ("AWS_SESSION_TOKEN_222222222222", k222.token.as_str()),
    ];
    let secrets: Vec<&str> = vec![
        file_key,
        file_secret,
        file_token,
        external_id,
        base_secret,
        "AKIASENTINELBASE8888",
        &k222.key_id,
        &k222.secret,
        &k222.token,
        &k444.key_id,
        &k444.secret,
        &k444.token,
        chain_external_id,
        chain_secret,
        "AKIASENTINELCHAIN999",
    ];

    let out_dir = dir.path().join("bom");
    let plugins =
        common::plugin_set(dir.path(), &[common::collector("ec2"), common::formatter("json")]);
    let mut outputs = Vec::new();
    for log_format in ["text", "json"] {
        let run = inventag(
            Some(&moto),
            Some(&aws),
            &[
                "--log-level",
                "debug",
                "--log-format",
                log_format,
                "run",
                "--accounts-file",
                file.to_str().unwrap(),
                "--output-dir",
                out_dir.to_str().unwrap(),
                "--plugin-dir",
                plugins.to_str().unwrap(),
                "--secrets-manager",
                "on",
            ],
            &env,
        );
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        assert_eq!(run.status.code(), Some(0), "the run did not complete:\n{stderr}");
        assert!(stderr.contains("credentials resolved"), "debug log missing:\n{stderr}");
        outputs.push(("run stdout", String::from_utf8_lossy(&run.stdout).into_owned()));
        outputs.push(("run stderr", stderr));
        for (format, level) in [
            ("text", "debug"),
            ("json", "INFO"),
            ("text", "info,inventag=debug"),
            ("json", "TRACE"),
        ] {
            let check = inventag(
                Some(&moto),
                Some(&aws),
                &[
                    "--log-level",
                    level,
                    "--log-format",
                    log_format,
                    "accounts",
                    "check",
                    "--accounts-file",
                    file.to_str().unwrap(),
                    "--format",
                    format,
                    "--secrets-manager",
                    "on",
                ],
                &env,
            );
            assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
            outputs.push(("check stdout", String::from_utf8_lossy(&check.stdout).into_owned()));
            outputs.push(("check stderr", String::from_utf8_lossy(&check.stderr).into_owned()));
        }
    }
    let files = files_under(&out_dir);
    assert!(!files.is_empty(), "the run wrote no file");
    let (_, bom) = files
        .iter()
        .find(|(path, _)| path.to_string_lossy().contains("inventag-bom-"))
        .expect("the run wrote a BOM");
    let bom: Value = serde_json::from_str(bom).unwrap();
    let methods: Vec<&str> = bom["run"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["credential_method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "accounts_file_keys",
            "role_arn",
            "environment_variables",
            "secrets_manager",
            "profile_name"
        ]
    );
    for (path, text) in &files {
        outputs.push(("output file", format!("{}: {text}", path.display())));
    }
    for (what, text) in &outputs {
        for secret in &secrets {
            assert!(!text.contains(secret), "{what} holds a secret ({} chars)", secret.len());
        }
    }
}

#[test]
fn organization_accounts_are_reached_through_the_named_role() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.url.trim_start_matches("http://"));
    let members: Vec<String> = runtime().block_on(async {
        let creds = aws_sdk_organizations::config::Credentials::new(
            BASE[0].1, BASE[1].1, None, None, "test",
        );
        let conf = aws_sdk_organizations::config::Builder::new()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&moto.url)
            .credentials_provider(creds)
            .build();
        let org = aws_sdk_organizations::Client::from_conf(conf);
        org.create_organization().send().await.expect("moto CreateOrganization");
        let mut ids = Vec::new();
        for name in ["Member One", "Member Two"] {
            let out = org
                .create_account()
                .account_name(name)
                .email(format!("{}@example.com", name.replace(' ', ".")))
                .send()
                .await
                .expect("moto CreateAccount");
            ids.push(out.create_account_status().unwrap().account_id().unwrap().to_owned());
        }
        ids
    });
    let out = inventag(
        None,
        None,
        &[
            "accounts",
            "check",
            "--org-role-name",
            "OrganizationAccountAccessRole",
            "--format",
            "json",
            "--endpoint-url",
            &proxy.url,
        ],
        &[BASE[0], BASE[1], ("INVENTAG_EXTERNAL_ID", "org-external-id")],
    );
    let report = check_json(&out);
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["accounts"].as_array().unwrap().len(), 3, "{report:#}");
    assert_eq!(row(&report, MOTO_DEFAULT_ACCOUNT)["method"], "default_chain");
    for id in &members {
        let r = row(&report, id);
        assert_eq!(r["method"], "role_arn", "{r:#}");
        let arn = r["caller_arn"].as_str().unwrap();
        assert!(
            arn.contains(&format!("::{id}:assumed-role/OrganizationAccountAccessRole/")),
            "{arn}"
        );
    }
    let assumed = proxy
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .filter(|b| b.contains("Action=AssumeRole"))
        .collect::<Vec<_>>();
    assert_eq!(assumed.len(), 2, "{assumed:?}");
    assert!(assumed.iter().all(|b| b.contains("ExternalId=org-external-id")), "{assumed:?}");
}

#[test]
fn a_source_that_never_answers_fails_only_its_account() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let k444 = keys_for(&moto, "444444444444");
    let aws = profiles(
        dir.path(),
        "",
        "[profile slow]\ncredential_process = /bin/sh -c 'echo sentinel-stderr-Lp2 >&2; \
         sleep 60'\nregion = us-east-1\n",
    );
    let accounts = json!({"accounts": [
        {"account_id": "111111111111", "account_name": "Slow", "profile_name": "slow"},
        {"account_id": "444444444444", "account_name": "Good"},
    ]});
    let file = dir.path().join("accounts.json");
    write_private(&file, &accounts.to_string());
    let started = std::time::Instant::now();
    let out = inventag(
        Some(&moto),
        Some(&aws),
        &[
            "accounts",
            "check",
            "--accounts-file",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--credential-timeout",
            "2",
        ],
        &[
            ("AWS_ACCESS_KEY_ID_444444444444", &k444.key_id),
            ("AWS_SECRET_ACCESS_KEY_444444444444", &k444.secret),
            ("AWS_SESSION_TOKEN_444444444444", &k444.token),
        ],
    );
    let elapsed = started.elapsed();
    let report = check_json(&out);
    assert!(!out.status.success());
    assert!(elapsed < std::time::Duration::from_secs(30), "took {elapsed:?}");
    assert_eq!(row(&report, "444444444444")["status"], "ok");
    let slow = row(&report, "111111111111");
    assert!(slow["error"].as_str().unwrap().contains("longer than 2s"), "{slow:#}");
    assert!(!report.to_string().contains("sentinel-stderr"), "a process's stderr leaked");
}
