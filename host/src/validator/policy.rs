//! The least-privilege IAM policy for a set of plugins: the IAM action of
//! every operation the collectors declared and the validator allows, plus
//! what the host itself needs. Declared operations the validator denies
//! are left out and reported, so the policy never grants more than List
//! and Read to the plugins.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use super::{Standard, Validator};

/// The IAM policy language version.
pub const POLICY_VERSION: &str = "2012-10-17";

/// The host's own needs, which depend on the run's options.
#[derive(Clone, Debug, Default)]
pub struct HostNeeds {
    /// Credentials are read from AWS Secrets Manager (`--secrets-manager
    /// on`).
    pub secrets_manager: bool,
    /// Accounts are listed through AWS Organizations (`--org-role-name`).
    pub organizations: bool,
}

/// The actions the host always needs in a scanned account:
/// confirming the credentials and listing the enabled regions.
pub const HOST_ACTIONS: &[&str] = &["ec2:DescribeRegions", "sts:GetCallerIdentity"];

/// The names of the credential secrets the host looks for start with this.
pub const SECRET_NAME_PREFIX: &str = "inventag";

/// One plugin's declaration.
#[derive(Clone, Debug)]
pub struct Declaration {
    /// `name@version`.
    pub plugin: String,
    /// `(service, operation)` pairs.
    pub calls: Vec<(String, String)>,
}

/// A declared operation left out of the policy.
#[derive(Clone, Debug, Serialize)]
pub struct Excluded {
    /// The plugin that declared it.
    pub plugin: String,
    /// The service.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// The rule that denies it.
    pub rule: &'static str,
    /// Why.
    pub reason: String,
}

/// A generated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The policy document.
    pub document: Value,
    /// The IAM actions granted for the plugins, sorted.
    pub plugin_actions: Vec<String>,
    /// Declared operations left out.
    pub excluded: Vec<Excluded>,
}

/// Builds the policy for `declarations` under `standard`.
pub fn build(declarations: &[Declaration], standard: Standard, host: &HostNeeds) -> Policy {
    let validator = Validator::new(standard);
    let mut actions = BTreeSet::new();
    let mut excluded = Vec::new();
    for declaration in declarations {
        for (service, operation) in &declaration.calls {
            let judgement = validator.judge(service, operation, None);
            match (&judgement.verdict, judgement.iam_action) {
                (super::Verdict::Allowed { .. }, Some(action)) => {
                    actions.insert(action);
                }
                (verdict, _) => excluded.push(Excluded {
                    plugin: declaration.plugin.clone(),
                    service: service.clone(),
                    operation: operation.clone(),
                    rule: verdict.rule(),
                    reason: match verdict {
                        super::Verdict::Denied { reason, .. } => reason.clone(),
                        super::Verdict::Allowed { .. } => "no IAM action is known".into(),
                    },
                }),
            }
        }
    }
    let plugin_actions: Vec<String> = actions.into_iter().collect();

    let mut statements = Vec::new();
    if !plugin_actions.is_empty() {
        statements.push(json!({
            "Sid": "InventagCollectorsReadOnly",
            "Effect": "Allow",
            "Action": plugin_actions,
            "Resource": "*",
        }));
    }
    statements.push(json!({
        "Sid": "InventagHostIdentityAndRegions",
        "Effect": "Allow",
        "Action": HOST_ACTIONS,
        "Resource": "*",
    }));
    statements.push(json!({
        "Sid": "InventagHostAssumeAccountRoles",
        "Effect": "Allow",
        "Action": ["sts:AssumeRole"],
        "Resource": "arn:*:iam::*:role/*",
    }));
    if host.secrets_manager {
        statements.push(json!({
            "Sid": "InventagHostCredentialSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": format!("arn:*:secretsmanager:*:*:secret:{SECRET_NAME_PREFIX}*"),
        }));
    }
    if host.organizations {
        statements.push(json!({
            "Sid": "InventagHostListOrganizationAccounts",
            "Effect": "Allow",
            "Action": ["organizations:ListAccounts"],
            "Resource": "*",
        }));
    }
    Policy {
        document: json!({"Version": POLICY_VERSION, "Statement": statements}),
        plugin_actions,
        excluded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_declarations_are_left_out_and_host_needs_follow_the_options() {
        let declared = Declaration {
            plugin: "probe@1.0.0".into(),
            calls: vec![
                ("ec2".into(), "DescribeInstances".into()),
                ("ec2".into(), "TerminateInstances".into()),
                ("s3".into(), "ListObjectsV2".into()),
                ("secretsmanager".into(), "GetSecretValue".into()),
            ],
        };
        let policy =
            build(std::slice::from_ref(&declared), Standard::General, &HostNeeds::default());
        assert_eq!(policy.plugin_actions, ["ec2:DescribeInstances", "s3:ListBucket"]);
        let left_out: Vec<&str> = policy.excluded.iter().map(|e| e.operation.as_str()).collect();
        assert_eq!(left_out, ["TerminateInstances", "GetSecretValue"]);
        let text = policy.document.to_string();
        assert!(!text.contains("secretsmanager") && !text.contains("organizations"));

        let host = HostNeeds { secrets_manager: true, organizations: true };
        let text = build(&[declared], Standard::Gdpr, &host).document.to_string();
        assert!(text.contains("secret:inventag*") && text.contains("organizations:ListAccounts"));
        assert!(!text.contains("s3:ListBucket"), "gdpr denies listing object keys");
    }
}
