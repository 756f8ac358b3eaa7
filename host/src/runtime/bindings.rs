//! Host bindings generated from the WIT package in `wit/`. The formatter
//! world shares the collector world's `types` and `log` so that one record
//! type and one log implementation serve both.

/// The `collector-plugin` world.
pub mod collector {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "collector-plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "inventag:plugin/aws.pages": crate::runtime::collector::PageStream,
        },
    });
}

/// The `formatter-plugin` world.
pub mod formatter {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "formatter-plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "inventag:plugin/types": super::collector::inventag::plugin::types,
            "inventag:plugin/log": super::collector::inventag::plugin::log,
        },
    });
}

pub use collector::inventag::plugin::{aws, log, records, types};
