//! Bindings for the `formatter-plugin` world.
//!
//! A formatter imports `log` and `output` (see [`crate::output`]) and
//! exports the `formatter` interface:
//! `begin`, `add-resources` per batch, `add-compliance` once with the
//! run's [`ComplianceReport`], then `finish`.
//! Implement [`Formatter`] on a unit struct and pass it to
//! [`export_formatter!`](crate::export_formatter) once, at the crate root of
//! the plugin. The shared `types` and `log` interfaces are the ones generated
//! in [`crate::collector`], so a [`Resource`] is the same Rust type in both
//! worlds.

wit_bindgen::generate!({
    world: "formatter-plugin",
    path: "../../wit",
    pub_export_macro: true,
    export_macro_name: "export_formatter",
    default_bindings_module: "inventag_plugin_sdk::formatter",
    runtime_path: "inventag_plugin_sdk::wit_bindgen::rt",
    with: {
        "inventag:plugin/types@0.1.2": inventag_plugin_sdk::collector::inventag::plugin::types,
        "inventag:plugin/log@0.1.2": inventag_plugin_sdk::collector::inventag::plugin::log,
    },
});

/// The trait a formatter implements (the `formatter` interface's `Guest`).
pub use self::exports::inventag::plugin::formatter::Guest as Formatter;
pub use self::exports::inventag::plugin::formatter::{
    AccountRef, BlockedAttempt, ComplianceReport, Document, Finding, FormatterInfo, OperationTally,
    Outcome, RunMetadata, Severity, TargetCoverage, Verdict,
};
pub use crate::collector::inventag::plugin::types::{Resource, Tag};
