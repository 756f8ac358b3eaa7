//! Bindings for the `collector-plugin` world.
//!
//! A collector imports `aws`, `log` and `records` and exports the
//! `collector` interface. Implement [`Collector`] on a unit struct and pass
//! it to [`export_collector!`](crate::export_collector) once, at the crate
//! root of the plugin:
//!
//! ```ignore
//! use inventag_plugin_sdk::prelude::*;
//!
//! struct MyCollector;
//!
//! impl Collector for MyCollector {
//!     fn describe() -> CollectorInfo { /* ... */ }
//!     fn collect(target: Target) -> Result<CollectSummary, CollectError> { /* ... */ }
//! }
//!
//! export_collector!(MyCollector);
//! ```
//!
//! The raw generated modules are `inventag::plugin::{aws, log, records,
//! types}` and `exports::inventag::plugin::collector`; the helpers in the
//! rest of the SDK wrap them.

wit_bindgen::generate!({
    world: "collector-plugin",
    path: "../../wit",
    pub_export_macro: true,
    export_macro_name: "export_collector",
    default_bindings_module: "inventag_plugin_sdk::collector",
    runtime_path: "inventag_plugin_sdk::wit_bindgen::rt",
});

/// The trait a collector implements (the `collector` interface's `Guest`).
pub use self::exports::inventag::plugin::collector::Guest as Collector;
pub use self::exports::inventag::plugin::collector::{CollectError, CollectSummary, CollectorInfo};
pub use self::inventag::plugin::types::{Resource, ServiceCalls, Tag, Target};
