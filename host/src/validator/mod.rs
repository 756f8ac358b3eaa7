//! The read-only validator: the one place that decides whether an AWS
//! operation may be called. The gateway asks it before every call, for
//! plugins and for the host's own calls alike; nothing is sent without an
//! `Allowed` verdict.
//!
//! Rules are applied in order and the first that decides wins:
//!
//! 1. `sensitive-read`: reads that return secrets or customer data
//!    (secret values, object bodies, table items, log events, password
//!    data, tokens) are denied whatever the plugin declared;
//! 2. `not-read-only`: only operations that read (`Describe*`, `List*`,
//!    `Get*` and the like) may pass;
//! 3. `undeclared`: a plugin may call only what it declared when loaded;
//! 4. `read-only`: everything else is allowed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// The operations a caller may use, by service, as it declared them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Grants {
    by_service: BTreeMap<String, BTreeSet<String>>,
}

impl Grants {
    /// Grants built from `(service, operations)` pairs.
    pub fn new<'a>(calls: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Grants {
        let mut by_service: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (service, ops) in calls {
            by_service.entry(service.to_owned()).or_default().extend(ops.iter().cloned());
        }
        Grants { by_service }
    }

    /// Whether `service:operation` was declared.
    pub fn covers(&self, service: &str, operation: &str) -> bool {
        self.by_service.get(service).is_some_and(|ops| ops.contains(operation))
    }

    /// Every declared `(service, operation)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_service
            .iter()
            .flat_map(|(s, ops)| ops.iter().map(move |o| (s.as_str(), o.as_str())))
    }
}

/// The validator's decision on one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The call may be sent.
    Allowed {
        /// The rule that allowed it.
        rule: &'static str,
    },
    /// The call must not be sent.
    Denied {
        /// The rule that denied it.
        rule: &'static str,
        /// Why, in words for the user.
        reason: String,
    },
}

impl Verdict {
    /// Whether the call may go ahead.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }

    /// The deciding rule's name.
    pub fn rule(&self) -> &'static str {
        match self {
            Verdict::Allowed { rule } | Verdict::Denied { rule, .. } => rule,
        }
    }
}

/// Reads that return secrets or customer data, by `service:Operation`.
const SENSITIVE_READS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "s3:GetObject",
    "s3:GetObjectTorrent",
    "s3:SelectObjectContent",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ExecuteStatement",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:GetLogRecord",
    "logs:StartQuery",
    "ec2:GetPasswordData",
    "ec2:GetConsoleOutput",
    "ec2:GetConsoleScreenshot",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "sts:AssumeRole",
    "codecommit:GetFile",
    "codecommit:GetBlob",
    "kinesis:GetRecords",
    "sqs:ReceiveMessage",
    "lambda:GetFunction",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "rds:DownloadDBLogFilePortion",
    "athena:GetQueryResults",
    "glue:GetConnection",
    "glue:GetConnections",
    "iam:GetCredentialReport",
];

/// Operation name prefixes that only read.
const READ_PREFIXES: &[&str] =
    &["Describe", "List", "Get", "BatchGet", "Lookup", "Search", "HeadBucket"];

/// The read-only validator.
#[derive(Clone, Debug, Default)]
pub struct Validator {}

impl Validator {
    /// A validator with the built-in rules.
    pub fn new() -> Validator {
        Validator {}
    }

    /// Decides whether `grants`' holder may call `service:operation`.
    pub fn check(&self, grants: &Grants, service: &str, operation: &str) -> Verdict {
        let action = format!("{service}:{operation}");
        if SENSITIVE_READS.contains(&action.as_str()) {
            return Verdict::Denied {
                rule: "sensitive-read",
                reason: format!(
                    "{action} returns secrets or customer data, which a BOM never reads"
                ),
            };
        }
        if !READ_PREFIXES.iter().any(|p| operation.starts_with(p)) {
            return Verdict::Denied {
                rule: "not-read-only",
                reason: format!("{action} is not a read-only operation"),
            };
        }
        if !grants.covers(service, operation) {
            return Verdict::Denied {
                rule: "undeclared",
                reason: format!("{action} is not among the operations the caller declared"),
            };
        }
        Verdict::Allowed { rule: "read-only" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants() -> Grants {
        let ops = ["DescribeInstances".to_owned(), "TerminateInstances".to_owned()];
        let secrets = ["GetSecretValue".to_owned()];
        Grants::new([("ec2", &ops[..]), ("secretsmanager", &secrets[..])])
    }

    #[test]
    fn declared_reads_pass() {
        assert_eq!(
            Validator::new().check(&grants(), "ec2", "DescribeInstances").rule(),
            "read-only"
        );
    }

    #[test]
    fn writes_are_denied_even_when_declared() {
        let v = Validator::new().check(&grants(), "ec2", "TerminateInstances");
        assert_eq!(v.rule(), "not-read-only");
        assert!(!v.is_allowed());
    }

    #[test]
    fn sensitive_reads_are_denied_even_when_declared() {
        assert_eq!(
            Validator::new().check(&grants(), "secretsmanager", "GetSecretValue").rule(),
            "sensitive-read"
        );
    }

    #[test]
    fn undeclared_reads_are_denied() {
        assert_eq!(Validator::new().check(&grants(), "ec2", "DescribeImages").rule(), "undeclared");
    }
}
