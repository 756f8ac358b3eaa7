//! What inventag's formatters share, so that every document applies the
//! same rules to the same data.
//!
//! * [`text`]: the documented rules for awkward text: control characters,
//!   line ends, over-long values, and values a spreadsheet would run as a
//!   formula;
//! * [`tally`]: counts by service, type, account and region, and the
//!   coverage figures, gathered as batches stream past;
//! * [`compliance`]: the section every document renders on compliance;
//! * [`sheet`]: worksheet names Excel accepts;
//! * [`draft`]: the one document in progress between `begin` and `finish`;
//! * [`buffer`]: an output buffer that hands the document to the host in
//!   chunks as it grows.
//!
//! Nothing here may panic on data: a formatter must never trap because a
//! value is odd.

#![warn(missing_docs)]

pub mod buffer;
pub mod compliance;
pub mod draft;
pub mod sheet;
pub mod tally;
pub mod text;

pub use buffer::{Chunked, deliver};
pub use compliance::{Compliance, ComplianceItem, ComplianceStatus};
pub use draft::Slot;
pub use tally::{CoverageStats, RunFacts, Tally};

use inventag_plugin_sdk::formatter::Outcome;

/// The outcome as the documents spell it: `ok`, `denied`, `throttled`,
/// `region_disabled`, `unsupported`, `incomplete`, `failed`.
pub fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::Denied => "denied",
        Outcome::Throttled => "throttled",
        Outcome::RegionDisabled => "region_disabled",
        Outcome::Unsupported => "unsupported",
        Outcome::Incomplete => "incomplete",
        Outcome::Failed => "failed",
    }
}
