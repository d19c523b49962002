use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

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
        let engine = match Engine::new(&config(true)) {
            Ok(engine) => engine,
            // A capped address space (ulimit -v, some sandboxes) cannot hold the pool;
            // plugins still run, instantiated on demand.
            Err(error) => {
                tracing::warn!(%error, "cannot reserve the plugin instance pool; instantiating on demand");
                Engine::new(&config(false)).map_err(|e| PluginError::Engine(e.to_string()))?
            }
        };
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

fn config(pooled: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(true);
    config.epoch_interruption(true);
    if pooled {
        // 4 GiB of address space per memory (never committed): every 32-bit address
        // then lands in the reservation or its guard, so loads and stores need no
        // explicit bounds checks — the difference between ~0.3× and ~0.4–0.6× native.
        config.memory_reservation(4 << 30);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool()));
    } else {
        config.memory_reservation(MAX_MEMORY_BYTES as u64);
    }
    config
}

/// The largest linear memory any plugin may have (the host's ceiling).
pub(crate) const MAX_MEMORY_BYTES: usize = 64 << 20;

/// Every call instantiates afresh, so instantiation is the per-call overhead: a pool
/// of pre-reserved slots, reused warm, makes it a few microseconds instead of a round
/// of mmap/munmap. The first 4 MiB of a slot's memory stay resident and are zeroed
/// between calls (nothing of one call is visible to the next) instead of being
/// returned to the kernel and faulted back in page by page: that halved the per-call
/// overhead (21 → 12.5 µs) and raised every parser's throughput. At most 16 idle warm
/// slots are kept, so this holds at most 64 MiB resident. The pool bounds concurrent
/// instances; the plugin slots in kiln-core keep real use below it.
fn pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(64)
        .total_core_instances(512)
        .total_memories(128)
        .total_tables(1024)
        .max_core_instances_per_component(32)
        .max_memories_per_component(4)
        .max_tables_per_component(16)
        .max_memory_size(MAX_MEMORY_BYTES)
        .linear_memory_keep_resident(4 << 20)
        .max_unused_warm_slots(16)
        .table_keep_resident(64 << 10);
    pool
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
