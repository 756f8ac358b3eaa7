//! The files in `examples/` are what users copy: every accounts file the
//! credential security guide names exists and parses, carries only
//! placeholder keys, and every CI example calls `inventag` with flags the
//! binary has and accounts files that exist.

mod common;

use std::{path::Path, process::Command};

use inventag::config::AccountsFile;

/// The configurations the guide names, one file each.
const GUIDE_FILES: [&str; 6] = [
    "accounts_with_profiles.json",
    "accounts_local_with_credentials.json",
    "accounts_github_secrets.json",
    "accounts_cicd_environment.json",
    "accounts_aws_secrets_manager.json",
    "accounts_cross_account_roles.json",
];

/// The CI examples: GitHub Actions with OIDC and with secrets, CodeBuild
/// with Secrets Manager, Jenkins.
const CI_FILES: [&str; 4] = [
    "ci/github_actions_with_oidc.yml",
    "ci/github_actions_with_secrets.yml",
    "ci/aws_codebuild_with_secrets_manager.yml",
    "ci/Jenkinsfile",
];

fn examples() -> std::path::PathBuf {
    common::repo().join("examples")
}

#[test]
fn every_guide_accounts_file_exists_and_parses() {
    let mut all: Vec<String> = GUIDE_FILES.iter().map(|s| s.to_string()).collect();
    all.push("accounts.yaml".into());
    for name in &all {
        let path = examples().join(name);
        let file = AccountsFile::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!file.accounts.is_empty(), "{name} lists no account");
        // Keys in examples are AWS's documented placeholders, nothing else.
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => continue, // YAML: holds no keys, checked below
        };
        for account in json["accounts"].as_array().unwrap() {
            if let Some(key) = account["access_key_id"].as_str() {
                assert!(key.ends_with("EXAMPLE"), "{name}: {key} is not a placeholder");
                let secret = account["secret_access_key"].as_str().unwrap();
                assert!(secret.ends_with("EXAMPLEKEY"), "{name}: the secret is not a placeholder");
            }
        }
    }
    let yaml = std::fs::read_to_string(examples().join("accounts.yaml")).unwrap();
    assert!(!yaml.contains("access_key_id"), "accounts.yaml must not hold keys");
}

/// The `inventag` command lines of a CI file, continuation lines joined.
fn inventag_commands(text: &str) -> Vec<Vec<String>> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|line| {
            let at = line.find("inventag ")?;
            let before = &line[..at];
            // `target/release/inventag run ...`, not a comment or a path.
            if !(before.ends_with('/') || before.trim().is_empty() || before.ends_with("- ")) {
                return None;
            }
            let words: Vec<String> = line[at..]
                .split_whitespace()
                .map(|w| w.trim_matches(|c| c == '\'' || c == '"').to_owned())
                .collect();
            (words.len() > 1).then_some(words)
        })
        .collect()
}

fn help(subcommand: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_inventag"))
        .args(subcommand)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "inventag {subcommand:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn ci_examples_call_inventag_with_real_flags_and_files() {
    let mut commands_seen = 0;
    for name in CI_FILES {
        let path = examples().join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.ends_with(".yml") {
            let doc: serde_yaml::Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(doc.is_mapping(), "{name} is not a YAML mapping");
        }
        let commands = inventag_commands(&text);
        assert!(!commands.is_empty(), "{name} never runs inventag");
        for words in commands {
            commands_seen += 1;
            let sub: Vec<&str> =
                words[1..].iter().take_while(|w| !w.starts_with('-')).map(String::as_str).collect();
            let text = help(&sub);
            for (i, word) in words.iter().enumerate() {
                if word.starts_with("--") {
                    assert!(
                        text.contains(word.as_str()),
                        "{name}: `inventag {}` has no {word}",
                        sub.join(" ")
                    );
                }
                if word == "--accounts-file" {
                    let file = &words[i + 1];
                    let path = common::repo().join(file);
                    assert!(Path::new(&path).exists(), "{name}: {file} does not exist");
                    AccountsFile::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
                }
            }
        }
    }
    assert!(commands_seen >= 5, "only {commands_seen} inventag commands found");
}
