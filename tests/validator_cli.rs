//! `inventag validate` (one operation, and `-` for lines on stdin) and
//! `inventag policy`, through the binary.

mod common;

use std::{
    collections::HashMap,
    io::Write,
    process::{Command, Stdio},
};

use serde_json::Value;

fn validate(args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["validate"];
    all.extend_from_slice(args);
    let out = common::inventag(None, None, &all, &[]);
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn validate_prints_the_verdict_and_rule_and_exits_by_the_verdict() {
    let (code, text) = validate(&["ec2", "TerminateInstances"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with("ec2:TerminateInstances: denied by not-read-only"), "{text}");
    assert!(text.contains("IAM action: ec2:TerminateInstances (Write)"), "{text}");

    let (code, text) = validate(&["ec2", "DescribeInstances"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("ec2:DescribeInstances: allowed by read-only (standard general)"));

    let (code, text) = validate(&["secretsmanager", "GetSecretValue", "--format", "json"]);
    assert_eq!(code, Some(1));
    let verdict: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(verdict["verdict"], "denied");
    assert_eq!(verdict["rule"], "sensitive-read");
    assert_eq!(verdict["iam_action"], "secretsmanager:GetSecretValue");
    assert_eq!(verdict["access_level"], "Read");

    let (code, text) = validate(&["cognito-idp", "ListUsers", "--standard", "gdpr"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("denied by personal-data (standard gdpr)"), "{text}");
    assert_eq!(validate(&["cognito-idp", "ListUsers"]).0, Some(0));

    let input = r#"{"InstanceId": "i-1", "Attribute": "userData"}"#;
    let (code, text) = validate(&["ec2", "DescribeInstanceAttribute", "--input", input]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("sensitive-read"), "{text}");

    let out = common::inventag(None, None, &["validate", "ec2"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn validate_dash_reads_lines_and_prints_one_json_verdict_each() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inventag"))
        .args(["validate", "-", "--standard", "pci"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = "ec2:DescribeInstances\ns3:PutObject\n\n# a comment\nkms:GetPublicKey\n\
                 s3:ListObjectsV2\nelbv2:DescribeLoadBalancers\nno-colon\nec2:NoSuchThing\n";
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, String)> = answers
        .iter()
        .map(|a| {
            let s = |f: &str| a[f].as_str().unwrap_or_default().to_owned();
            match a.get("error") {
                Some(_) => (s("input"), "error".to_owned()),
                None => (format!("{}:{}", s("service"), s("operation")), s("rule")),
            }
        })
        .collect();
    let want = [
        ("ec2:DescribeInstances", "read-only"),
        ("s3:PutObject", "not-read-only"),
        ("kms:GetPublicKey", "key-material"),
        ("s3:ListObjectsV2", "read-only"),
        ("elbv2:DescribeLoadBalancers", "read-only"),
        ("no-colon", "error"),
        ("ec2:NoSuchThing", "unknown-operation"),
    ];
    let want: Vec<(String, String)> =
        want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(got, want);
    assert!(answers.iter().filter(|a| a.get("error").is_none()).all(|a| a["standard"] == "pci"));
    assert_eq!(answers[4]["iam_action"], "elasticloadbalancing:DescribeLoadBalancers");
}

/// IAM action (lower case, as IAM compares them) to its level codes, read
/// straight from the committed classification.
fn committed_levels() -> HashMap<String, String> {
    let text = std::fs::read_to_string(common::repo().join("host/access-levels/access-levels.txt"))
        .unwrap();
    let mut levels = HashMap::new();
    let mut prefix = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields[0].starts_with('@') {
            prefix = fields[1].to_owned();
            continue;
        }
        let action = match fields.get(2) {
            Some(action) => action.to_string(),
            None => format!("{prefix}:{}", fields[0]),
        };
        if fields[1] != "-" {
            levels.insert(action.to_lowercase(), fields[1].to_owned());
        }
    }
    levels
}

fn policy(plugin_dir: &std::path::Path, extra: &[&str]) -> (Value, String) {
    let mut args = vec!["policy", "--plugin-dir", plugin_dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = common::inventag(None, None, &args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "inventag policy failed:\n{stderr}");
    (serde_json::from_slice(&out.stdout).expect("the policy is JSON"), stderr)
}

/// Every action of `document`, checked for shape, with the statement's Sid.
fn actions(document: &Value) -> Vec<(String, String)> {
    assert_eq!(document["Version"], "2012-10-17");
    let mut out = Vec::new();
    for statement in document["Statement"].as_array().expect("a Statement list") {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        assert!(statement["Resource"].is_string(), "{statement}");
        let sid = statement["Sid"].as_str().unwrap().to_owned();
        for action in statement["Action"].as_array().expect("an Action list") {
            let action = action.as_str().unwrap();
            let shaped = action.split_once(':').is_some_and(|(service, name)| {
                !service.is_empty()
                    && service
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric())
            });
            assert!(shaped, "{action} is not service:Action");
            out.push((sid.clone(), action.to_owned()));
        }
    }
    out
}

const HOST_NEEDS: [&str; 5] = [
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "ec2:DescribeRegions",
    "secretsmanager:GetSecretValue",
    "organizations:ListAccounts",
];

#[test]
fn policy_for_the_shipped_plugins_grants_only_list_and_read_beyond_the_hosts_needs() {
    let levels = committed_levels();
    let (document, _) = policy(&common::plugin_dir(), &[]);
    let granted = actions(&document);
    let plugin_actions: Vec<&str> = granted
        .iter()
        .filter(|(sid, _)| sid == "InventagCollectorsReadOnly")
        .map(|(_, a)| a.as_str())
        .collect();
    assert!(plugin_actions.contains(&"ec2:DescribeInstances"), "{plugin_actions:?}");
    for (sid, action) in &granted {
        if HOST_NEEDS.contains(&action.as_str()) && sid.starts_with("InventagHost") {
            continue;
        }
        let level = levels.get(&action.to_lowercase()).map(String::as_str);
        assert!(
            matches!(level, Some("L" | "R")),
            "{action} ({sid}) is classified {level:?}, not List or Read"
        );
    }
    let text = document.to_string();
    assert!(!text.contains("secretsmanager") && !text.contains("organizations"), "{text}");

    // The host's optional needs follow the options, narrowly.
    let (document, _) =
        policy(&common::plugin_dir(), &["--secrets-manager", "on", "--org-role-name", "Reader"]);
    let statements = document["Statement"].as_array().unwrap();
    let secrets = statements
        .iter()
        .find(|s| s["Action"][0] == "secretsmanager:GetSecretValue")
        .expect("the secrets statement");
    assert_eq!(secrets["Resource"], "arn:*:secretsmanager:*:*:secret:inventag*");
    assert!(statements.iter().any(|s| s["Action"][0] == "organizations:ListAccounts"));
}

#[test]
fn policy_leaves_out_what_a_plugin_declares_but_may_never_do() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = common::plugin_set(
        tmp.path(),
        &[
            common::plugin_dir().join("collector-ec2.wasm"),
            common::test_plugin_dir().join("test-validator-probe.wasm"),
        ],
    );
    let (document, stderr) = policy(&plugins, &[]);
    let granted: Vec<String> = actions(&document).into_iter().map(|(_, a)| a).collect();
    for never in ["ec2:TerminateInstances", "s3:PutObject", "iam:CreateUser"] {
        assert!(!granted.iter().any(|a| a == never), "{never} granted: {granted:?}");
        let operation = never.split(':').nth(1).unwrap();
        assert!(stderr.contains(operation), "{never} not reported as left out:\n{stderr}");
    }
    // Secret values are not granted to plugins; only the host's own
    // statement may hold GetSecretValue, and only with --secrets-manager on.
    assert!(!granted.iter().any(|a| a == "secretsmanager:GetSecretValue"), "{granted:?}");
}

#[test]
fn policy_refuses_an_unvetted_plugin_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins =
        common::plugin_set(tmp.path(), &[common::plugin_dir().join("collector-ec2.wasm")]);
    // Beside the vetted set, with no lock entry and no signature.
    std::fs::copy(
        common::test_plugin_dir().join("test-validator-probe.wasm"),
        plugins.join("stray.wasm"),
    )
    .unwrap();
    let args = ["policy", "--plugin-dir", plugins.to_str().unwrap()];
    let refused = common::inventag(None, None, &args, &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "an unvetted plugin was granted:\n{stderr}");
    assert!(stderr.contains("stray.wasm") && stderr.contains("not vetted"), "{stderr}");
    assert!(refused.stdout.is_empty(), "a policy was printed anyway");

    let (document, _) = policy(&plugins, &["--allow-unvetted"]);
    let granted: Vec<String> = actions(&document).into_iter().map(|(_, a)| a).collect();
    assert!(granted.iter().any(|a| a == "ec2:DescribeInstances"), "{granted:?}");
}
