//! The compliance section every document renders.
//!
//! The host hands every formatter the run's compliance report
//! (`add-compliance`); [`keep`] holds it for the document, and
//! [`Compliance::for_document`] turns it, with the coverage and the
//! resource tally, into the rows every format shows: the standard and
//! score, the calls allowed and denied, and each finding. A document made
//! without a report (an older host) gets the provisional section compiled
//! from coverage alone, marked as such.

use std::cell::RefCell;

use inventag_plugin_sdk::formatter::{ComplianceReport, Severity};

use crate::tally::{CoverageStats, Tally};

thread_local! {
    static REPORT: RefCell<Option<ComplianceReport>> = const { RefCell::new(None) };
}

/// Keeps the host's report for the document being written.
pub fn keep(report: ComplianceReport) {
    REPORT.with(|r| *r.borrow_mut() = Some(report));
}

/// How one control fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComplianceStatus {
    /// The control is met.
    Pass,
    /// The control is not met.
    Fail,
    /// A figure to read, not a verdict.
    Info,
    /// Not checked in this run.
    NotEvaluated,
}

impl ComplianceStatus {
    /// The status as documents spell it.
    pub fn label(self) -> &'static str {
        match self {
            ComplianceStatus::Pass => "pass",
            ComplianceStatus::Fail => "fail",
            ComplianceStatus::Info => "info",
            ComplianceStatus::NotEvaluated => "not evaluated",
        }
    }
}

/// One row of the section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComplianceItem {
    /// What is checked, in a few words.
    pub control: String,
    /// How it fared.
    pub status: ComplianceStatus,
    /// The figures behind the status.
    pub detail: String,
    /// Where the row comes from.
    pub source: String,
}

/// The section: a note on where it comes from, and its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compliance {
    /// True while the section is compiled by the formatter rather than
    /// given by the host's compliance record.
    pub provisional: bool,
    /// A sentence shown above the rows.
    pub note: String,
    /// The rows.
    pub items: Vec<ComplianceItem>,
}

/// Where provisional rows say they come from.
const FORMATTER_SOURCE: &str = "formatter (from coverage and tags)";

impl Compliance {
    /// The section for the document: from the host's report when one was
    /// kept, else the provisional one.
    pub fn for_document(tally: &Tally, coverage: &CoverageStats) -> Compliance {
        match REPORT.with(|r| r.borrow().clone()) {
            Some(report) => Compliance::from_report(&report, tally, coverage),
            None => Compliance::provisional(tally, coverage),
        }
    }

    /// The section from the host's report, with the coverage rows.
    pub fn from_report(
        report: &ComplianceReport,
        tally: &Tally,
        coverage: &CoverageStats,
    ) -> Compliance {
        let mut items: Vec<ComplianceItem> = Compliance::provisional(tally, coverage)
            .items
            .into_iter()
            .filter(|i| i.status != ComplianceStatus::NotEvaluated)
            .map(|mut i| {
                i.source = "coverage".to_string();
                i
            })
            .collect();
        let validator = |control: String, status, detail: String| ComplianceItem {
            control,
            status,
            detail,
            source: "validator".to_string(),
        };
        items.push(validator(
            "Every call read-only and declared".to_string(),
            if report.denied_calls == 0 { ComplianceStatus::Pass } else { ComplianceStatus::Fail },
            format!(
                "{} calls allowed, {} refused by the validator",
                report.allowed_calls, report.denied_calls
            ),
        ));
        for f in &report.findings {
            let (status, level) = match f.severity {
                Severity::High => (ComplianceStatus::Fail, "high"),
                Severity::Medium => (ComplianceStatus::Fail, "medium"),
                Severity::Low => (ComplianceStatus::Info, "low"),
            };
            items.push(validator(
                format!("{level}: {} {}:{}", f.plugin, f.service, f.operation),
                status,
                format!("{} ({}, rule {})", f.message, f.kind, f.rule),
            ));
        }
        Compliance {
            provisional: false,
            note: format!(
                "Standard {}: score {}/100 ({}).",
                report.standard, report.score, report.score_formula
            ),
            items,
        }
    }

    /// The provisional section, from the coverage and the tally.
    pub fn provisional(tally: &Tally, coverage: &CoverageStats) -> Compliance {
        let item = |control: &str, status, detail: String| ComplianceItem {
            control: control.to_string(),
            status,
            detail,
            source: FORMATTER_SOURCE.to_string(),
        };
        let verdict = |ok: bool| if ok { ComplianceStatus::Pass } else { ComplianceStatus::Fail };
        let items = vec![
            item(
                "Every target collected in full",
                verdict(coverage.complete()),
                format!(
                    "{} of {} targets ok ({}); {} denied, {} incomplete, {} failed",
                    coverage.ok,
                    coverage.targets,
                    coverage.ok_percent(),
                    coverage.denied,
                    coverage.incomplete,
                    coverage.failed
                ),
            ),
            item(
                "No access refused",
                verdict(coverage.denied == 0),
                format!("{} targets refused by the validator or by AWS", coverage.denied),
            ),
            item(
                "Resources carry tags",
                ComplianceStatus::Info,
                format!("{} of {} resources have no tag", tally.untagged, tally.total),
            ),
            item(
                "Resources carry a name",
                ComplianceStatus::Info,
                format!("{} of {} resources have no name", tally.unnamed, tally.total),
            ),
            item(
                "Read-only validator verdicts",
                ComplianceStatus::NotEvaluated,
                "the validator's record is not yet part of the formatter contract".to_string(),
            ),
        ];
        Compliance {
            provisional: true,
            note: "Provisional: compiled by the formatter from the run's coverage and tags. \
                   The host's compliance record will replace this section."
                .to_string(),
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisional_section_is_marked_and_judges_coverage() {
        let tally = Tally { total: 10, untagged: 3, ..Default::default() };
        let stats = CoverageStats { targets: 4, ok: 3, denied: 1, ..Default::default() };
        let c = Compliance::provisional(&tally, &stats);
        assert!(c.provisional);
        assert!(c.note.starts_with("Provisional"));
        assert_eq!(c.items[0].status, ComplianceStatus::Fail);
        assert_eq!(c.items[1].status, ComplianceStatus::Fail);
        assert!(c.items[2].detail.starts_with("3 of 10"));
        let ok = CoverageStats { targets: 2, ok: 2, ..Default::default() };
        assert_eq!(Compliance::provisional(&tally, &ok).items[0].status, ComplianceStatus::Pass);
    }
}
