//! The guest-side SDK for inventag plugins.
//!
//! inventag runs its collectors and formatters as WebAssembly components
//! (`wasm32-wasip2`) against the WIT package `inventag:plugin@0.1.2` in the
//! repository's `wit/` folder. This crate holds the generated bindings for
//! both worlds, so that a plugin crate depends on this SDK alone, and a few
//! small helpers on top of them:
//!
//! * [`aws`]: [`aws::call`], [`aws::paginate`] and [`aws::paginate_all`]
//!   take and return [`serde_json::Value`] documents instead of JSON
//!   strings;
//! * [`record`]: [`ResourceBuilder`] builds a [`Resource`] record, and
//!   [`record::tags_from_aws`] / [`record::name_tag`] handle AWS tag lists;
//! * [`emit`]: [`Emitter`] hands records to the host in batches of 200;
//! * [`collect`]: [`Collection`] runs the parts of a collection, keeps the
//!   warnings and decides between a summary and a collection error;
//! * [`value`]: [`value::text`], [`value::array`], [`value::strings`] and
//!   epoch-time conversion pick attributes out of output documents;
//! * [`testing`]: a target and attribute parsing for the unit tests of
//!   record builders;
//! * [`log`]: [`log::info`], [`log::warn`] and friends write to the host's
//!   log;
//! * [`output`]: a formatter's [`output::write`] hands its document to the
//!   host a piece at a time.
//!
//! A collector implements [`Collector`] and registers itself with
//! [`export_collector!`]; a formatter implements [`Formatter`] and registers
//! itself with [`export_formatter!`].

#![warn(missing_docs)]

// Lets the generated bindings and export macros name this crate by the same
// path inside the SDK and inside the plugin crates that use it.
extern crate self as inventag_plugin_sdk;

/// The `wit-bindgen` runtime, used by the code the export macros expand to.
#[doc(hidden)]
pub use wit_bindgen;

#[allow(missing_docs)]
pub mod collector;
#[allow(missing_docs)]
pub mod formatter;

pub mod aws;
pub mod collect;
pub mod emit;
pub mod log;
pub mod output;
pub mod prelude;
pub mod record;
pub mod testing;
pub mod value;

pub use collect::Collection;
pub use collector::{
    CollectError, CollectSummary, Collector, CollectorInfo, Resource, ServiceCalls, Tag, Target,
};
pub use emit::Emitter;
pub use formatter::Formatter;
pub use record::ResourceBuilder;

#[doc(inline)]
pub use collector::export_collector;
#[doc(inline)]
pub use formatter::export_formatter;

/// Builds one entry of [`CollectorInfo::calls`]:
/// `service_calls("ec2", &["DescribeVpcs", "DescribeSubnets"])`.
pub fn service_calls(service: &str, operations: &[&str]) -> ServiceCalls {
    ServiceCalls {
        service: service.to_string(),
        operations: operations.iter().map(|op| op.to_string()).collect(),
    }
}
