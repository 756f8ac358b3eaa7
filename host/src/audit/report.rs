//! The compliance report: what the validator decided during a run, by
//! operation and verdict, every blocked attempt with the plugin that made
//! it, the findings and a score.
//!
//! Findings are distinct problems, not attempts, so that a plugin retrying
//! a denied call in a loop weighs as much as one attempt:
//!
//! - one per blocked `(plugin, service, operation, rule)`, of the rule's
//!   [`Severity`];
//! - one per operation a plugin declared that the standard denies, of
//!   [`Severity::Low`] (the host never grants it; the declaration asks for
//!   more than a BOM may have).
//!
//! The score is `max(0, 100 - 15 H - 5 M - 1 L)`, where H, M and L count
//! the high, medium and low findings. A run with no finding scores 100.
//! Every finding was blocked: the score measures how far the plugins'
//! behaviour strayed from the standard, not data that left AWS.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Tally;
use crate::validator::{Standard, rules};

/// How the score is computed, as written in every report.
pub const SCORE_FORMULA: &str = "score = max(0, 100 - 15*high - 5*medium - 1*low), counting \
                                 distinct findings";

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// An attempt to change AWS or to read secrets, credentials, customer
    /// or personal data.
    High,
    /// An attempt outside what the plugin declared, or at an operation
    /// that cannot be shown to only read.
    Medium,
    /// A malformed attempt (unknown operation, bad region), or a
    /// declaration the standard denies.
    Low,
}

impl Severity {
    /// The severity of a blocked call, by the rule that blocked it.
    pub fn of_rule(rule: &str) -> Severity {
        match rule {
            rules::SENSITIVE_READ | rules::NOT_READ_ONLY => Severity::High,
            "confidential-content" | "key-material" | "personal-data" | "health-data" => {
                Severity::High
            }
            rules::UNDECLARED | rules::UNCLASSIFIED | rules::NOT_INVENTORY_READ => Severity::Medium,
            _ => Severity::Low,
        }
    }

    fn weight(self) -> u32 {
        match self {
            Severity::High => 15,
            Severity::Medium => 5,
            Severity::Low => 1,
        }
    }
}

/// Calls of one operation that ended with one verdict and rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OperationTally {
    /// The service.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// The rule that decided.
    pub rule: String,
    /// How many calls.
    pub calls: u64,
}

/// The operations of a run, by verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ByVerdict {
    /// Allowed operations.
    pub allowed: Vec<OperationTally>,
    /// Denied operations.
    pub denied: Vec<OperationTally>,
}

/// Blocked attempts of one plugin at one operation in one place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockedAttempt {
    /// `name@version`, or `inventag@version` for the host.
    pub plugin: String,
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The service.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// The rule that blocked it.
    pub rule: String,
    /// Why, in the validator's words.
    pub reason: String,
    /// How many attempts.
    pub attempts: u64,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// `blocked-call`, `declared-denied-operation` or `unvetted-plugin`.
    pub kind: &'static str,
    /// The rule behind it.
    pub rule: String,
    /// The plugin.
    pub plugin: String,
    /// The service.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// What happened, in words.
    pub message: String,
}

/// Call counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every recorded call.
    pub calls: u64,
    /// Calls allowed.
    pub allowed_calls: u64,
    /// Calls denied.
    pub denied_calls: u64,
    /// Findings by severity.
    pub high: u32,
    /// Medium findings.
    pub medium: u32,
    /// Low findings.
    pub low: u32,
}

/// The compliance report of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComplianceReport {
    /// The run, as in the BOM and the audit log.
    pub run_id: String,
    /// The standard the run was held to.
    pub standard: Standard,
    /// 0 to 100; see [`SCORE_FORMULA`].
    pub score: u8,
    /// How the score is computed.
    pub score_formula: &'static str,
    /// Counts.
    pub summary: Summary,
    /// Operations by verdict.
    pub operations: ByVerdict,
    /// Every blocked attempt.
    pub blocked: Vec<BlockedAttempt>,
    /// The findings, most serious first.
    pub findings: Vec<Finding>,
}

impl ComplianceReport {
    pub(super) fn from_tally(run_id: &str, standard: Standard, tally: &Tally) -> Self {
        let mut operations = ByVerdict::default();
        let mut summary = Summary::default();
        for ((service, operation, verdict, rule), calls) in &tally.operations {
            let row = OperationTally {
                service: service.clone(),
                operation: operation.clone(),
                rule: rule.clone(),
                calls: *calls,
            };
            summary.calls += calls;
            if *verdict == "allowed" {
                summary.allowed_calls += calls;
                operations.allowed.push(row);
            } else {
                summary.denied_calls += calls;
                operations.denied.push(row);
            }
        }

        let mut blocked = Vec::new();
        let mut distinct: BTreeMap<(String, String, String, String), &str> = BTreeMap::new();
        for ((plugin, account, region, service, operation, rule), (reason, attempts)) in
            &tally.blocked
        {
            blocked.push(BlockedAttempt {
                plugin: plugin.clone(),
                account_id: account.clone(),
                region: region.clone(),
                service: service.clone(),
                operation: operation.clone(),
                rule: rule.clone(),
                reason: reason.clone(),
                attempts: *attempts,
            });
            distinct
                .entry((plugin.clone(), service.clone(), operation.clone(), rule.clone()))
                .or_insert(reason);
        }

        let mut findings: Vec<Finding> = distinct
            .into_iter()
            .map(|((plugin, service, operation, rule), reason)| Finding {
                severity: Severity::of_rule(&rule),
                kind: "blocked-call",
                message: format!("{plugin} called {service}:{operation}, blocked: {reason}"),
                rule,
                plugin,
                service,
                operation,
            })
            .collect();
        for ((plugin, service, operation), (rule, reason)) in &tally.declared {
            findings.push(Finding {
                severity: Severity::Low,
                kind: "declared-denied-operation",
                rule: (*rule).to_owned(),
                plugin: plugin.clone(),
                service: service.clone(),
                operation: operation.clone(),
                message: format!(
                    "{plugin} declares {service}:{operation}, which is never granted: {reason}"
                ),
            });
        }
        for (plugin, why) in &tally.unvetted {
            findings.push(Finding {
                severity: Severity::High,
                kind: "unvetted-plugin",
                rule: "unvetted-plugin".to_owned(),
                plugin: plugin.clone(),
                service: String::new(),
                operation: String::new(),
                message: format!("{plugin} ran under --allow-unvetted: {why}"),
            });
        }
        findings.sort_by(|a, b| {
            (a.severity, &a.plugin, &a.service, &a.operation, a.kind).cmp(&(
                b.severity,
                &b.plugin,
                &b.service,
                &b.operation,
                b.kind,
            ))
        });
        let mut penalty = 0u32;
        for finding in &findings {
            penalty = penalty.saturating_add(finding.severity.weight());
            match finding.severity {
                Severity::High => summary.high += 1,
                Severity::Medium => summary.medium += 1,
                Severity::Low => summary.low += 1,
            }
        }
        let score = 100u32.saturating_sub(penalty);
        ComplianceReport {
            run_id: run_id.to_owned(),
            standard,
            score: u8::try_from(score).unwrap_or(100),
            score_formula: SCORE_FORMULA,
            summary,
            operations,
            blocked,
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(tally: &mut Tally, operation: &str, rule: &str, attempts: u64) {
        let key = (
            "probe@1.0.0".to_owned(),
            "111111111111".to_owned(),
            "us-east-1".to_owned(),
            "ec2".to_owned(),
            operation.to_owned(),
            rule.to_owned(),
        );
        tally.blocked.insert(key, ("why".to_owned(), attempts));
        let key = ("ec2".to_owned(), operation.to_owned(), "denied", rule.to_owned());
        tally.operations.insert(key, attempts);
    }

    #[test]
    fn the_score_counts_distinct_findings_by_severity() {
        let mut tally = Tally::default();
        let report = ComplianceReport::from_tally("r", Standard::General, &tally);
        assert_eq!(report.score, 100);

        blocked(&mut tally, "TerminateInstances", rules::NOT_READ_ONLY, 40);
        blocked(&mut tally, "DescribeImages", rules::UNDECLARED, 1);
        tally.declared.insert(
            ("probe@1.0.0".into(), "ec2".into(), "TerminateInstances".into()),
            (rules::NOT_READ_ONLY, "Write".into()),
        );
        let key = ("ec2".to_owned(), "DescribeVpcs".to_owned(), "allowed", "read-only".to_owned());
        tally.operations.insert(key, 3);
        let report = ComplianceReport::from_tally("r", Standard::General, &tally);
        // 100 - 15 (high) - 5 (medium) - 1 (low): forty attempts weigh as one.
        assert_eq!(report.score, 79);
        assert_eq!((report.summary.high, report.summary.medium, report.summary.low), (1, 1, 1));
        assert_eq!(report.summary.denied_calls, 41);
        assert_eq!(report.summary.allowed_calls, 3);
        assert_eq!(report.findings[0].severity, Severity::High);
        assert_eq!(report.operations.allowed.len(), 1);
        assert_eq!(report.operations.denied.len(), 2);
    }

    #[test]
    fn the_score_stops_at_zero() {
        let mut tally = Tally::default();
        for n in 0..10 {
            blocked(&mut tally, &format!("Delete{n}"), rules::NOT_READ_ONLY, 1);
        }
        assert_eq!(ComplianceReport::from_tally("r", Standard::General, &tally).score, 0);
    }
}
