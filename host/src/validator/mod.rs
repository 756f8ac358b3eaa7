//! The read-only validator: the one place that decides whether an AWS
//! operation may be called. The gateway asks it before every call, for
//! plugins and for the host's own calls alike, and before the input is
//! serialised: nothing is sent without an allowed verdict, whatever the
//! service's wire protocol.
//!
//! Rules are applied in order and the first that decides wins:
//!
//! 1. `unknown-operation`: not an operation of the catalogue;
//! 2. `sensitive-read`, then the standard's own rules (`confidential-content`,
//!    `key-material`, `personal-data`, `health-data`): reads that return
//!    secrets, credentials, customer or personal data ([`denylist`]). An
//!    operation is also caught when the IAM action it needs is the action of
//!    a listed operation, since granting that action grants the listed read;
//! 3. `not-read-only`: IAM classifies the operation's action as Write,
//!    Permissions management or Tagging ([`levels`]);
//! 4. `unclassified`: IAM does not classify it at all;
//! 5. `not-inventory-read`: IAM calls it List or Read, but its name does not
//!    start with a reading verb (`Describe`, `List`, `Get`, `BatchGet`,
//!    `BatchDescribe`, `Search`, `Lookup`, `Head`, `Count`, `View`): such
//!    operations invoke models, start jobs or compute over data
//!    (`InvokeModel`, `StartQuery`, `TranslateText`), which a BOM never
//!    needs and which may cost money or change state;
//! 6. `undeclared`: the caller did not declare the operation when loaded;
//! 7. otherwise the call is allowed, by `read-only`, or by
//!    `read-only-fallback` when its IAM action came from the `NameV2` →
//!    `Name` fallback of the generator.

pub mod commands;
pub mod denylist;
pub mod levels;
pub mod policy;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt,
};

use serde::Serialize;
use serde_json::Value;

pub use levels::{AccessLevel, AccessLevels, Classification, Derivation, Lookup};

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

/// The names of the validator's rules, as verdicts and audit records
/// give them.
pub mod rules {
    /// Not an operation of the catalogue.
    pub const UNKNOWN_OPERATION: &str = "unknown-operation";
    /// A read of secrets, credentials or customer data.
    pub const SENSITIVE_READ: &str = "sensitive-read";
    /// IAM classifies the action as Write, Permissions management or
    /// Tagging.
    pub const NOT_READ_ONLY: &str = "not-read-only";
    /// IAM does not classify the operation.
    pub const UNCLASSIFIED: &str = "unclassified";
    /// IAM says List or Read, but the operation is not an inventory read.
    pub const NOT_INVENTORY_READ: &str = "not-inventory-read";
    /// The caller did not declare the operation.
    pub const UNDECLARED: &str = "undeclared";
    /// A List or Read action.
    pub const READ_ONLY: &str = "read-only";
    /// A List or Read action found by the `NameV2` fallback.
    pub const READ_ONLY_FALLBACK: &str = "read-only-fallback";
}

/// A compliance standard: the set of rules a run is held to. Every
/// standard includes `general`; the others add denials of their own.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Standard {
    /// Read-only, no secrets, credentials or customer data.
    #[default]
    General,
    /// `general` and no copies of configuration content.
    Soc2,
    /// `general`, no configuration content and no key material.
    Pci,
    /// `general`, no personal data and no health-care records.
    Hipaa,
    /// `general` and no personal data.
    Gdpr,
}

impl Standard {
    /// Every standard, `general` first.
    pub const ALL: [Standard; 5] =
        [Standard::General, Standard::Soc2, Standard::Pci, Standard::Hipaa, Standard::Gdpr];

    /// The deny groups of the standard, [`denylist::SENSITIVE`] first.
    pub fn groups(self) -> &'static [&'static denylist::Group] {
        use denylist::*;
        static GENERAL: [&Group; 1] = [&SENSITIVE];
        static SOC2: [&Group; 2] = [&SENSITIVE, &CONFIDENTIAL_CONTENT];
        static PCI: [&Group; 3] = [&SENSITIVE, &CONFIDENTIAL_CONTENT, &KEY_MATERIAL];
        static HIPAA: [&Group; 3] = [&SENSITIVE, &PERSONAL_DATA, &HEALTH_DATA];
        static GDPR: [&Group; 2] = [&SENSITIVE, &PERSONAL_DATA];
        match self {
            Standard::General => &GENERAL,
            Standard::Soc2 => &SOC2,
            Standard::Pci => &PCI,
            Standard::Hipaa => &HIPAA,
            Standard::Gdpr => &GDPR,
        }
    }

    /// The standard's name, as `--standard` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Standard::General => "general",
            Standard::Soc2 => "soc2",
            Standard::Pci => "pci",
            Standard::Hipaa => "hipaa",
            Standard::Gdpr => "gdpr",
        }
    }
}

impl fmt::Display for Standard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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

    /// `allowed` or `denied`.
    pub fn word(&self) -> &'static str {
        if self.is_allowed() { "allowed" } else { "denied" }
    }
}

/// A verdict with what it was based on, for `inventag validate`.
#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    /// The service, as the catalogue names it.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// The standard it was judged under.
    pub standard: Standard,
    /// The verdict and rule.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The IAM action the operation needs, when IAM classifies it.
    pub iam_action: Option<String>,
    /// The action's access levels, `Write, Tagging`.
    pub access_level: Option<String>,
    /// A denial that depends on the call's input, in words, when the
    /// input was not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// Operation names of reads an inventory makes.
const READING_VERBS: &[&str] = &[
    "Describe",
    "List",
    "Get",
    "BatchGet",
    "BatchDescribe",
    "Search",
    "Lookup",
    "Head",
    "Count",
    "View",
];

fn starts_with_reading_verb(operation: &str) -> bool {
    READING_VERBS.iter().any(|verb| {
        operation.strip_prefix(verb).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_uppercase())
        })
    })
}

/// A denial found in a deny group.
struct Match {
    rule: &'static str,
    entry: &'static denylist::Entry,
    /// The IAM action that made the match, when the operation itself is
    /// not listed.
    through: Option<String>,
}

/// The read-only validator, for one standard.
#[derive(Clone, Debug)]
pub struct Validator {
    standard: Standard,
    levels: &'static AccessLevels,
    /// IAM actions of the unconditional entries of the standard's groups.
    denied_actions: HashMap<String, (&'static str, &'static denylist::Entry)>,
}

impl Default for Validator {
    fn default() -> Self {
        Validator::new(Standard::General)
    }
}

impl Validator {
    /// A validator holding calls to `standard`.
    pub fn new(standard: Standard) -> Validator {
        let levels = AccessLevels::embedded();
        let mut denied_actions = HashMap::new();
        for group in standard.groups() {
            for entry in group.entries.iter().filter(|e| e.when.is_none()) {
                let Some((service, operation)) = entry.operation.split_once(':') else { continue };
                if let Lookup::Classified(c) = levels.lookup(service, operation) {
                    // A method-level action (apigateway:GET) covers a whole
                    // API, not the listed read.
                    if c.derivation != Derivation::Method {
                        denied_actions.entry(c.action).or_insert((group.rule, entry));
                    }
                }
            }
        }
        Validator { standard, levels, denied_actions }
    }

    /// The standard in force.
    pub fn standard(&self) -> Standard {
        self.standard
    }

    /// Decides whether `grants`' holder may call `service:operation`.
    /// With `input`, denials that depend on the input are judged on it;
    /// without, they are left to the call itself.
    pub fn check(
        &self,
        grants: &Grants,
        service: &str,
        operation: &str,
        input: Option<&Value>,
    ) -> Verdict {
        let verdict = self.judge(service, operation, input).verdict;
        if verdict.is_allowed() && !grants.covers(service, operation) {
            return Verdict::Denied {
                rule: rules::UNDECLARED,
                reason: format!(
                    "{service}:{operation} is not among the operations the caller declared"
                ),
            };
        }
        verdict
    }

    /// Judges `service:operation` on its own, as if the caller had
    /// declared it.
    pub fn judge(&self, service: &str, operation: &str, input: Option<&Value>) -> Judgement {
        let lookup = self.levels.lookup(service, operation);
        let class = match &lookup {
            Lookup::Classified(c) => Some(c),
            _ => None,
        };
        let mut condition = None;
        let verdict = self.decide(service, operation, &lookup, input, &mut condition);
        Judgement {
            service: service.to_owned(),
            operation: operation.to_owned(),
            standard: self.standard,
            verdict,
            iam_action: class.map(|c| c.action.clone()),
            access_level: class.map(Classification::levels_text),
            condition,
        }
    }

    fn decide(
        &self,
        service: &str,
        operation: &str,
        lookup: &Lookup,
        input: Option<&Value>,
        condition: &mut Option<String>,
    ) -> Verdict {
        let name = format!("{service}:{operation}");
        let deny = |rule: &'static str, reason: String| Verdict::Denied { rule, reason };
        if *lookup == Lookup::Unknown {
            return deny(
                rules::UNKNOWN_OPERATION,
                format!("{name} is not an operation of the catalogue"),
            );
        }
        if let Some(m) = self.denylisted(&name, lookup, input, condition) {
            let mut reason = format!("{name} {}", m.entry.why);
            if let Some(action) = &m.through {
                reason = format!(
                    "{name} needs {action}, the permission of {}, which {}",
                    m.entry.operation, m.entry.why
                );
            }
            return deny(m.rule, format!("{reason}; the {} standard denies it", self.standard));
        }
        let class = match lookup {
            Lookup::Classified(c) => c,
            _ => {
                return deny(
                    rules::UNCLASSIFIED,
                    format!(
                        "{name} has no IAM access level in {}, so it cannot be shown to \
                         only read",
                        self.levels.source()
                    ),
                );
            }
        };
        if !class.reads_only() {
            return deny(
                rules::NOT_READ_ONLY,
                format!(
                    "{name} needs {}, which IAM classifies as {}; only List and Read pass",
                    class.action,
                    class.levels_text()
                ),
            );
        }
        if !starts_with_reading_verb(operation) {
            return deny(
                rules::NOT_INVENTORY_READ,
                format!(
                    "IAM classifies {} as {}, but {operation} is not an inventory read \
                     (it runs work over data rather than describing resources)",
                    class.action,
                    class.levels_text()
                ),
            );
        }
        match class.derivation {
            Derivation::Suffix => Verdict::Allowed { rule: rules::READ_ONLY_FALLBACK },
            _ => Verdict::Allowed { rule: rules::READ_ONLY },
        }
    }

    fn denylisted(
        &self,
        name: &str,
        lookup: &Lookup,
        input: Option<&Value>,
        condition: &mut Option<String>,
    ) -> Option<Match> {
        for group in self.standard.groups() {
            let Some(entry) = group.find(name) else { continue };
            match (entry.when, input) {
                (None, _) => return Some(Match { rule: group.rule, entry, through: None }),
                (Some(when), Some(input)) if when.holds(input) => {
                    return Some(Match { rule: group.rule, entry, through: None });
                }
                (Some(when), None) => {
                    condition.get_or_insert_with(|| format!("{}: {}", group.rule, when.describe()));
                }
                (Some(_), Some(_)) => {}
            }
        }
        let Lookup::Classified(class) = lookup else { return None };
        let (rule, entry) = self.denied_actions.get(&class.action)?;
        Some(Match { rule, entry, through: Some(class.action.clone()) })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn grants() -> Grants {
        let ops = ["DescribeInstances".to_owned(), "TerminateInstances".to_owned()];
        let secrets = ["GetSecretValue".to_owned()];
        Grants::new([("ec2", &ops[..]), ("secretsmanager", &secrets[..])])
    }

    fn rule(standard: Standard, service: &str, operation: &str) -> &'static str {
        Validator::new(standard).judge(service, operation, None).verdict.rule()
    }

    #[test]
    fn declared_reads_pass() {
        let v = Validator::default().check(&grants(), "ec2", "DescribeInstances", None);
        assert_eq!(v, Verdict::Allowed { rule: rules::READ_ONLY });
    }

    #[test]
    fn writes_are_denied_even_when_declared() {
        let v = Validator::default().check(&grants(), "ec2", "TerminateInstances", None);
        assert_eq!(v.rule(), rules::NOT_READ_ONLY);
        assert!(!v.is_allowed());
    }

    #[test]
    fn sensitive_reads_are_denied_even_when_declared() {
        let v = Validator::default().check(&grants(), "secretsmanager", "GetSecretValue", None);
        assert_eq!(v.rule(), rules::SENSITIVE_READ);
    }

    #[test]
    fn undeclared_reads_are_denied() {
        let v = Validator::default().check(&grants(), "ec2", "DescribeImages", None);
        assert_eq!(v.rule(), rules::UNDECLARED);
    }

    #[test]
    fn an_operation_needing_a_denied_permission_is_denied_with_it() {
        // HeadObject needs s3:GetObject, which also reads object bodies.
        assert_eq!(rule(Standard::General, "s3", "HeadObject"), rules::SENSITIVE_READ);
        assert_eq!(rule(Standard::General, "s3", "HeadBucket"), rules::READ_ONLY);
        // Under gdpr, listing object keys is denied, and so is HeadBucket,
        // whose permission (s3:ListBucket) lists them.
        assert_eq!(rule(Standard::Gdpr, "s3", "ListObjectsV2"), "personal-data");
        assert_eq!(rule(Standard::Gdpr, "s3", "HeadBucket"), "personal-data");
        // API Gateway's GET covers whole APIs: one listed GET does not deny
        // the others.
        assert_eq!(rule(Standard::Soc2, "apigateway", "GetExport"), "confidential-content");
        assert_eq!(rule(Standard::Soc2, "apigateway", "GetRestApis"), rules::READ_ONLY);
    }

    #[test]
    fn standards_add_their_own_denials() {
        for (standard, service, operation, expected) in [
            (Standard::General, "cognito-idp", "ListUsers", rules::READ_ONLY),
            (Standard::Hipaa, "cognito-idp", "ListUsers", "personal-data"),
            (Standard::Gdpr, "iam", "GetAccountAuthorizationDetails", "personal-data"),
            (Standard::Pci, "kms", "GetPublicKey", "key-material"),
            (Standard::Pci, "cloudformation", "GetTemplate", "confidential-content"),
            (Standard::Soc2, "kms", "GetPublicKey", rules::READ_ONLY),
            (Standard::Hipaa, "medical-imaging", "SearchImageSets", "health-data"),
        ] {
            assert_eq!(rule(standard, service, operation), expected, "{standard} {operation}");
        }
    }

    #[test]
    fn input_conditions_decide_on_the_input() {
        let v = Validator::default();
        let user_data = json!({"InstanceId": "i-1", "Attribute": "userData"});
        let kind = json!({"InstanceId": "i-1", "Attribute": "instanceType"});
        let judge = |input: &Value| v.judge("ec2", "DescribeInstanceAttribute", Some(input));
        assert_eq!(judge(&user_data).verdict.rule(), rules::SENSITIVE_READ);
        assert_eq!(judge(&kind).verdict.rule(), rules::READ_ONLY);
        let open = v.judge("ec2", "DescribeInstanceAttribute", None);
        assert!(open.verdict.is_allowed());
        assert!(open.condition.is_some_and(|c| c.contains("userData")));
        let hidden = json!({"HidePassword": true});
        assert!(v.judge("glue", "GetConnections", Some(&hidden)).verdict.is_allowed());
        assert!(!v.judge("glue", "GetConnections", Some(&json!({}))).verdict.is_allowed());
    }

    #[test]
    fn reads_that_run_work_are_not_inventory_reads() {
        assert_eq!(rule(Standard::General, "bedrock-runtime", "InvokeModel"), "not-inventory-read");
        assert_eq!(rule(Standard::General, "translate", "TranslateText"), "not-inventory-read");
        assert_eq!(
            rule(Standard::General, "config", "DeliverConfigSnapshot"),
            "not-inventory-read"
        );
    }

    #[test]
    fn unknown_and_unclassified_operations_are_denied() {
        assert_eq!(rule(Standard::General, "ec2", "DescribeNothing"), rules::UNKNOWN_OPERATION);
        assert_eq!(rule(Standard::General, "sso", "ListAccounts"), rules::UNCLASSIFIED);
        assert_eq!(
            rule(Standard::General, "securityhub", "GetFindingsV2"),
            rules::READ_ONLY_FALLBACK
        );
    }

    #[test]
    fn every_listed_operation_is_in_the_catalogue() {
        let levels = AccessLevels::embedded();
        for standard in Standard::ALL {
            for group in standard.groups() {
                for entry in group.entries {
                    let (service, operation) = entry.operation.split_once(':').unwrap();
                    assert_ne!(
                        levels.lookup(service, operation),
                        Lookup::Unknown,
                        "{} ({}) is not a catalogue operation",
                        entry.operation,
                        group.rule
                    );
                }
            }
        }
    }
}
