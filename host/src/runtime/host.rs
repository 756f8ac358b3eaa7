//! What every plugin store shares: the empty WASI context, resource
//! table, memory limiter, deadline, and the `log` import.

use std::time::Instant;

use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder};

use super::{Limits, bindings::log};

/// The scope of the store that runs a plugin's `describe`.
pub(crate) const DESCRIBE_SCOPE: &str = "describe";

/// The longest a plugin's `describe` may run.
pub(crate) const DESCRIBE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// The sandbox part of a plugin's store state.
pub(crate) struct Sandbox {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    limits: StoreLimits,
    pub(crate) deadline: Instant,
    /// `name@version` of the plugin.
    pub(crate) plugin: String,
    /// What the store works on, for log lines (`111111111111/us-east-1`).
    pub(crate) scope: String,
}

impl Sandbox {
    pub(crate) fn new(limits: &Limits, plugin: String, scope: String) -> Sandbox {
        // `describe` only answers with a few fields, and runs whenever a
        // plugin is listed or inspected, before anyone trusts it: it gets
        // a short deadline of its own.
        let deadline = match scope.as_str() {
            DESCRIBE_SCOPE => limits.deadline.min(DESCRIBE_DEADLINE),
            _ => limits.deadline,
        };
        Sandbox {
            wasi: empty_wasi(),
            table: ResourceTable::new(),
            // A plugin that needs more memory than its cap traps with the
            // limiter's own message, which names the cap, instead of an
            // allocator abort that reads as a bare `unreachable`.
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .instances(64)
                .trap_on_grow_failure(true)
                .build(),
            deadline: Instant::now() + deadline,
            plugin,
            scope,
        }
    }
}

/// WASI with nothing in it: no preopened directories, environment,
/// arguments or network, stdin closed and output discarded.
fn empty_wasi() -> WasiCtx {
    let mut builder = WasiCtxBuilder::new();
    builder
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    builder.build()
}

impl Sandbox {
    /// The time left before the deadline, at most `cap`: a host call the
    /// plugin waits on must not outlive the plugin's own deadline.
    pub(crate) fn host_call_budget(&self, cap: std::time::Duration) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now()).min(cap)
    }
}

/// Access to the sandbox part of a store's state.
pub(crate) trait HasSandbox: Send + 'static {
    fn sandbox(&mut self) -> &mut Sandbox;
}

/// A store with the memory limiter and the deadline in place.
pub(crate) fn new_store<T: HasSandbox>(engine: &Engine, data: T) -> Store<T> {
    let mut store = Store::new(engine, data);
    store.limiter(|state| &mut state.sandbox().limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut ctx| {
        if Instant::now() >= ctx.data_mut().sandbox().deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store
}

/// The longest log message kept from a plugin.
const MAX_LOG_CHARS: usize = 4096;

/// The `log` import: a plugin's message into the host's log, with control
/// characters replaced so nothing reaches a terminal raw.
pub(crate) fn plugin_log(sandbox: &Sandbox, level: log::Level, message: &str) {
    let clean: String = message
        .chars()
        .take(MAX_LOG_CHARS)
        .map(|c| if c.is_control() && c != '\n' { '\u{fffd}' } else { c })
        .collect();
    let (plugin, scope) = (sandbox.plugin.as_str(), sandbox.scope.as_str());
    match level {
        log::Level::Trace => tracing::trace!(target: "inventag::plugin", plugin, scope, "{clean}"),
        log::Level::Debug => tracing::debug!(target: "inventag::plugin", plugin, scope, "{clean}"),
        log::Level::Info => tracing::info!(target: "inventag::plugin", plugin, scope, "{clean}"),
        log::Level::Warn => tracing::warn!(target: "inventag::plugin", plugin, scope, "{clean}"),
        log::Level::Error => tracing::error!(target: "inventag::plugin", plugin, scope, "{clean}"),
    }
}

/// Implements WASI's view for a state type holding a `sandbox` field.
macro_rules! wasi_view {
    ($state:ty) => {
        impl wasmtime_wasi::WasiView for $state {
            fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
                let sandbox = &mut self.sandbox;
                wasmtime_wasi::WasiCtxView { ctx: &mut sandbox.wasi, table: &mut sandbox.table }
            }
        }
        impl $crate::runtime::host::HasSandbox for $state {
            fn sandbox(&mut self) -> &mut $crate::runtime::host::Sandbox {
                &mut self.sandbox
            }
        }
        impl $crate::runtime::bindings::types::Host for $state {}
        impl $crate::runtime::bindings::log::Host for $state {
            async fn log(
                &mut self,
                level: $crate::runtime::bindings::log::Level,
                message: String,
            ) -> wasmtime::Result<()> {
                $crate::runtime::host::plugin_log(&self.sandbox, level, &message);
                Ok(())
            }
        }
    };
}
pub(crate) use wasi_view;

/// Renders a trap or host failure with its cause, for coverage messages.
pub(crate) fn describe_failure(e: &wasmtime::Error, plugin: &str) -> String {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        if *trap == wasmtime::Trap::Interrupt {
            return format!("{plugin} ran past its deadline and was stopped");
        }
        return format!("{plugin} trapped: {trap}");
    }
    let text = format!("{e:#}");
    const GROW: &str = "forcing trap when growing memory";
    if let Some(at) = text.find(GROW) {
        let what = text[at..].lines().next().unwrap_or(GROW);
        return format!("{plugin} went over its memory cap ({what}); raise --plugin-memory");
    }
    if text.contains("memory") && text.contains("limit") {
        return format!("{plugin} went over its memory cap: {text}");
    }
    format!("{plugin} failed: {text}")
}
