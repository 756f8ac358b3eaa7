//! The plugin runtime: loads collector and formatter components into
//! wasmtime and runs them, one `Store` per target, under limits.
//!
//! A plugin gets WASI with an empty context: no preopened directories, no
//! environment, no arguments, no sockets, stdio that goes nowhere. On top,
//! a collector gets the host's `aws`, `log` and `records` imports and a
//! formatter only `log`. Everything a plugin says about itself comes from
//! its own `describe` export; the host grants exactly what it declares.
//!
//! Components are compiled once per engine and kept precompiled in a
//! [`ComponentCache`] keyed by their digest, when the runtime has one.

mod bindings;
pub mod cache;
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

use crate::vetting::Digest;

pub use cache::{CacheError, ComponentCache};
pub use collector::{CollectorRun, LoadedCollector, TargetSpec};
pub use formatter::{Document, LoadedFormatter};

/// Limits applied to every plugin store. The defaults are those of
/// `inventag run`'s flags.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Linear memory a plugin may grow to (`--plugin-memory`, 512 MiB).
    pub memory_bytes: usize,
    /// Wall time for one collector target, one formatter document or one
    /// `describe` (`--plugin-deadline`, 600 s). Checked on the engine's
    /// epoch every 10 ms while plugin code runs, and bounding every host
    /// call the plugin waits on.
    pub deadline: Duration,
    /// The longest one `aws` host call may take, retries included, before
    /// the plugin gets a `transport` error (`--plugin-call-timeout`,
    /// 120 s).
    pub call_timeout: Duration,
    /// Records one collector target may emit (`--plugin-max-records`,
    /// 1,000,000).
    pub max_records: u64,
    /// The largest one record may be, its text fields, tags and
    /// attributes summed (`--plugin-max-record-kib`, 1 MiB).
    pub max_record_bytes: usize,
    /// The largest document a formatter may write, in bytes
    /// (`--plugin-max-document`, 1 GiB).
    pub max_document_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 512 << 20,
            deadline: Duration::from_secs(600),
            call_timeout: Duration::from_secs(120),
            max_records: 1_000_000,
            max_record_bytes: 1 << 20,
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
    /// The component cache is unusable.
    #[error(transparent)]
    Cache(#[from] CacheError),
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
    cache: Option<Arc<ComponentCache>>,
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
            cache: None,
            _ticker: EpochTicker { stop },
            plugin_nanos: Default::default(),
        })
    }

    /// Keeps precompiled components in `dir` (see [`ComponentCache`]).
    pub fn with_cache(mut self, dir: &Path) -> Result<Runtime, LoadError> {
        self.cache = Some(Arc::new(ComponentCache::open(dir, &self.engine)?));
        Ok(self)
    }

    /// The component cache, if the runtime has one.
    pub fn cache(&self) -> Option<&ComponentCache> {
        self.cache.as_deref()
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

    /// The `.wasm` files of `dir`, sorted by name.
    pub fn plugin_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|reason| LoadError::Dir { dir: dir.to_owned(), reason })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    }

    /// Loads every `.wasm` file of `dir`, sorting collectors from
    /// formatters by what they export. A file that fails is reported in
    /// [`Plugins::problems`] and the others still load. No vetting: a run
    /// vets the files first and loads them with [`Runtime::load_bytes`].
    pub async fn load_dir(&self, dir: &Path) -> Result<Plugins, LoadError> {
        let mut plugins = Plugins::default();
        for file in Self::plugin_files(dir)? {
            match self.load_file(&file).await {
                Ok(loaded) => plugins.add(loaded),
                Err(e) => plugins.problems.push(e),
            }
        }
        Ok(plugins)
    }

    /// Loads one component file.
    pub async fn load_file(&self, file: &Path) -> Result<Loaded, LoadError> {
        let bytes = std::fs::read(file).map_err(|e| LoadError::Plugin {
            file: file.to_owned(),
            message: format!("cannot read: {e}"),
        })?;
        let digest = Digest::of(&bytes);
        self.load_bytes(file, bytes, digest).await
    }

    /// Loads a component from `bytes` read from `file`, whose digest is
    /// `digest` (the cache's key), and asks it to describe itself.
    pub async fn load_bytes(
        &self,
        file: &Path,
        bytes: Vec<u8>,
        digest: Digest,
    ) -> Result<Loaded, LoadError> {
        self.load_declared(file, bytes, digest).await.map(|(loaded, _)| loaded)
    }

    /// What a component declares about itself, as `inventag plugins`
    /// shows it.
    pub async fn declaration(
        &self,
        file: &Path,
        bytes: Vec<u8>,
        digest: Digest,
    ) -> Result<Declaration, LoadError> {
        let (loaded, wit_version) = self.load_declared(file, bytes, digest).await?;
        Ok(match loaded {
            Loaded::Collector(c) => Declaration {
                kind: "collector",
                name: c.info.name.clone(),
                version: c.info.version.clone(),
                wit_version,
                summary: c.info.summary.clone(),
                global: Some(c.info.global),
                calls: c.info.calls.clone(),
                parts: c.info.parts.clone(),
                format: None,
            },
            Loaded::Formatter(f) => Declaration {
                kind: "formatter",
                name: f.info.name.clone(),
                version: f.info.version.clone(),
                wit_version,
                summary: f.info.summary.clone(),
                global: None,
                calls: Vec::new(),
                parts: Vec::new(),
                format: Some(f.info.format.clone()),
            },
        })
    }

    async fn load_declared(
        &self,
        file: &Path,
        bytes: Vec<u8>,
        digest: Digest,
    ) -> Result<(Loaded, String), LoadError> {
        let fail = |message: String| LoadError::Plugin { file: file.to_owned(), message };
        let component = self.compile(bytes, digest).await.map_err(fail)?;
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let export = |prefix: &str| exports.iter().find_map(|e| e.strip_prefix(prefix));
        if let Some(version) = export("inventag:plugin/collector@") {
            let version = version.to_owned();
            let loaded =
                collector::LoadedCollector::load(self, file, component).await.map_err(fail)?;
            Ok((Loaded::Collector(Arc::new(loaded)), version))
        } else if let Some(version) = export("inventag:plugin/formatter@") {
            let version = version.to_owned();
            let loaded =
                formatter::LoadedFormatter::load(self, file, component).await.map_err(fail)?;
            Ok((Loaded::Formatter(Arc::new(loaded)), version))
        } else {
            Err(fail(format!(
                "exports neither inventag:plugin/collector nor inventag:plugin/formatter (it exports: {})",
                exports.join(", ")
            )))
        }
    }

    /// Compiles a component, or takes it from the cache; off the async
    /// threads, since compiling takes a while.
    async fn compile(&self, bytes: Vec<u8>, digest: Digest) -> Result<Component, String> {
        let engine = self.engine.clone();
        let span = tracing::debug_span!("inventag.runtime.compile", digest = %digest);
        let cache = self.cache.clone();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            match cache {
                Some(cache) => cache.component(&engine, &digest, &bytes),
                None => Component::new(&engine, &bytes)
                    .map_err(|e| format!("not a valid WebAssembly component: {e:#}")),
            }
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// What a plugin declares about itself.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Declaration {
    /// `collector` or `formatter`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The version of the WIT package it was built against (`0.1.1`).
    pub wit_version: String,
    /// One line on what it does.
    pub summary: String,
    /// For a collector: collected once per account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<bool>,
    /// For a collector: the operations it will call, by service.
    pub calls: Vec<(String, Vec<String>)>,
    /// For a collector: its independent parts.
    pub parts: Vec<String>,
    /// For a formatter: the `--formats` name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl Plugins {
    /// Files a loaded plugin under its kind. A second collector of the
    /// same name, or a second formatter of the same format, would collect
    /// or write the same thing twice: it is kept out, as a problem naming
    /// both files.
    pub fn add(&mut self, loaded: Loaded) {
        let twin = |kind: &str, name: &str, file: &Path, first: &Path| LoadError::Plugin {
            file: file.to_owned(),
            message: format!(
                "is a second {kind} {name:?} (the first is {}); it is not loaded: keep one",
                first.display()
            ),
        };
        match loaded {
            Loaded::Collector(c) => {
                match self.collectors.iter().find(|o| o.info.name == c.info.name) {
                    Some(o) => {
                        self.problems.push(twin("collector", &c.info.name, &c.file, &o.file))
                    }
                    None => self.collectors.push(c),
                }
            }
            Loaded::Formatter(f) => {
                match self.formatters.iter().find(|o| o.info.format == f.info.format) {
                    Some(o) => {
                        self.problems.push(twin("formatter of", &f.info.format, &f.file, &o.file))
                    }
                    None => self.formatters.push(f),
                }
            }
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
