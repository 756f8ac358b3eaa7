//! The compliance section every document renders.
//!
//! The formatter contract does not carry a compliance record yet; the
//! validator and audit work will add one. Until it does, the section is
//! compiled here from what a formatter already has (the coverage of every
//! target and the resource tally) and is marked provisional wherever it is
//! shown. When the record arrives, a conversion into [`Compliance`] is the
//! one change the formatters need: each renders a [`Compliance`] as a
//! note and a table of [`ComplianceItem`] rows.

use crate::tally::{CoverageStats, Tally};

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
