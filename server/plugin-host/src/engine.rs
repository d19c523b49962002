use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use wasmtime::{Config, Engine};

use crate::PluginError;

/// How often the epoch advances; plugin timeouts are counted in these ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// A wasmtime engine configured for sandboxed plugins, with the ticker thread that
/// drives epoch deadlines. Cheap to clone; the ticker stops when the last clone drops.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    cache_dir: Option<std::path::PathBuf>,
    _ticker: Arc<Ticker>,
}

impl PluginEngine {
    pub fn new() -> Result<Self, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(true);
        config.epoch_interruption(true);
        // Reserving less address space per memory keeps many concurrent calls cheap.
        config.memory_reservation(64 << 20);
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine(e.to_string()))?;
        let ticker = Ticker::start(engine.clone())?;
        Ok(Self {
            engine,
            cache_dir: None,
            _ticker: Arc::new(ticker),
        })
    }

    /// Keeps compiled plugins in `dir`, so a restart does not compile them again.
    pub fn with_cache_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The component for `wasm`, from the cache when possible.
    pub(crate) fn compile(
        &self,
        plugin: &str,
        wasm: &[u8],
    ) -> Result<(wasmtime::component::Component, crate::Origin), PluginError> {
        crate::cache::compile(&self.engine, self.cache_dir.as_deref(), plugin, wasm)
    }
}

struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Result<Self, PluginError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::Builder::new()
            .name("kiln-plugin-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| PluginError::Engine(format!("cannot start epoch ticker: {e}")))?;
        Ok(Self { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
