//! The plugin runtime: loads collector and formatter components into
//! wasmtime and runs them, one `Store` per target, under limits.
//!
//! A plugin gets WASI with an empty context: no preopened directories, no
//! environment, no arguments, no sockets, stdio that goes nowhere. On top,
//! a collector gets the host's `aws`, `log` and `records` imports and a
//! formatter only `log`. Everything a plugin says about itself comes from
//! its own `describe` export; the host grants exactly what it declares.

mod bindings;
pub mod collector;
mod cpu;
pub mod formatter;
mod host;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use wasmtime::{
    Config, Engine,
    component::{Component, Linker},
};

pub use collector::{CollectorRun, LoadedCollector, TargetSpec};
pub use formatter::{Document, LoadedFormatter};

/// Limits applied to every plugin store.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Linear memory a plugin may grow to.
    pub memory_bytes: usize,
    /// Wall time for one collector target or one formatter document.
    pub deadline: Duration,
    /// Records one collector target may emit.
    pub max_records: u64,
    /// The largest document a formatter may write, in bytes.
    pub max_document_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 512 << 20,
            deadline: Duration::from_secs(600),
            max_records: 1_000_000,
            max_document_bytes: 1 << 30,
        }
    }
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The plugin directory could not be read.
    #[error(
        "{dir}: cannot read the plugin directory: {reason} (give --plugin-dir or INVENTAG_PLUGIN_DIR; scripts/build-plugins.sh builds dist/plugins)"
    )]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The file is not a usable component.
    #[error("{file}: {message}")]
    Plugin {
        /// The plugin file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The engine could not be set up.
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
}

/// What a plugin directory held.
#[derive(Default)]
pub struct Plugins {
    /// Collectors, by file name order.
    pub collectors: Vec<Arc<LoadedCollector>>,
    /// Formatters, by file name order.
    pub formatters: Vec<Arc<LoadedFormatter>>,
    /// Files that could not be loaded, each with its reason.
    pub problems: Vec<LoadError>,
}

/// The engine and linkers shared by every plugin of a run.
pub struct Runtime {
    engine: Engine,
    collector_linker: Linker<collector::CollectorState>,
    formatter_linker: Linker<formatter::FormatterState>,
    limits: Limits,
    _ticker: EpochTicker,
    /// Time spent running plugin code (not waiting on the host), summed
    /// over every instance; see [`Runtime::plugin_time`].
    plugin_nanos: std::sync::atomic::AtomicU64,
}

/// How often the epoch advances; deadlines are checked at this grain.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Advances the engine's epoch from a background thread until dropped.
struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Runtime {
    /// A runtime with `limits` applied to every store.
    pub fn new(limits: Limits) -> Result<Runtime, LoadError> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(e.to_string()))?;
        let collector_linker =
            collector::linker(&engine).map_err(|e| LoadError::Engine(e.to_string()))?;
        let formatter_linker =
            formatter::linker(&engine).map_err(|e| LoadError::Engine(e.to_string()))?;

        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (ticking, flag) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("inventag-epoch".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match ticking.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| LoadError::Engine(e.to_string()))?;
        Ok(Runtime {
            engine,
            collector_linker,
            formatter_linker,
            limits,
            _ticker: EpochTicker { stop },
            plugin_nanos: Default::default(),
        })
    }

    /// Processor time spent in plugin code so far, summed over every
    /// instance: the time of each poll of a plugin, less that of the host
    /// calls it made (AWS calls, emitted records, written output). Time a
    /// plugin spends waiting, for AWS or for a thread, does not count.
    pub fn plugin_time(&self) -> Duration {
        Duration::from_nanos(self.plugin_nanos.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn add_plugin_time(&self, spent: Duration) {
        let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        self.plugin_nanos.fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Loads every `.wasm` file of `dir`, sorting collectors from
    /// formatters by what they export. A file that fails is reported in
    /// [`Plugins::problems`] and the others still load.
    pub async fn load_dir(&self, dir: &Path) -> Result<Plugins, LoadError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|reason| LoadError::Dir { dir: dir.to_owned(), reason })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
            .collect();
        files.sort();
        let mut plugins = Plugins::default();
        for file in files {
            match self.load_file(&file).await {
                Ok(Loaded::Collector(c)) => plugins.collectors.push(c),
                Ok(Loaded::Formatter(f)) => plugins.formatters.push(f),
                Err(e) => plugins.problems.push(e),
            }
        }
        Ok(plugins)
    }

    /// Loads one component file.
    pub async fn load_file(&self, file: &Path) -> Result<Loaded, LoadError> {
        let fail = |message: String| LoadError::Plugin { file: file.to_owned(), message };
        let bytes = std::fs::read(file).map_err(|e| fail(format!("cannot read: {e}")))?;
        let engine = self.engine.clone();
        let component = tokio::task::spawn_blocking(move || Component::new(&engine, &bytes))
            .await
            .map_err(|e| fail(e.to_string()))?
            .map_err(|e| fail(format!("not a valid WebAssembly component: {e:#}")))?;
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let has = |prefix: &str| exports.iter().any(|e| e.starts_with(prefix));
        if has("inventag:plugin/collector@") {
            let loaded =
                collector::LoadedCollector::load(self, file, component).await.map_err(fail)?;
            Ok(Loaded::Collector(Arc::new(loaded)))
        } else if has("inventag:plugin/formatter@") {
            let loaded =
                formatter::LoadedFormatter::load(self, file, component).await.map_err(fail)?;
            Ok(Loaded::Formatter(Arc::new(loaded)))
        } else {
            Err(fail(format!(
                "exports neither inventag:plugin/collector nor inventag:plugin/formatter (it exports: {})",
                exports.join(", ")
            )))
        }
    }
}

/// A loaded plugin of either kind.
pub enum Loaded {
    /// A collector.
    Collector(Arc<LoadedCollector>),
    /// A formatter.
    Formatter(Arc<LoadedFormatter>),
}
