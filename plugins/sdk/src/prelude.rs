//! The names most plugins need, for a glob import:
//! `use inventag_plugin_sdk::prelude::*;`.

pub use crate::aws::{self, AwsError};
pub use crate::collect::Collection;
pub use crate::collector::{
    CollectError, CollectSummary, Collector, CollectorInfo, Resource, ServiceCalls, Tag, Target,
};
pub use crate::emit::Emitter;
pub use crate::formatter::{
    AccountRef, BlockedAttempt, ComplianceReport, Document, Finding, Formatter, FormatterInfo,
    OperationTally, Outcome, RunMetadata, Severity, TargetCoverage, Verdict,
};
pub use crate::log;
pub use crate::output;
pub use crate::record::{ResourceBuilder, arn, arn_in, name_tag, tags_from_aws};
pub use crate::{export_collector, export_formatter, service_calls};
