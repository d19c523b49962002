//! What every plugin call runs inside: limits, the store's data, trap classification.

use std::time::Duration;

use wasmtime::{
    ResourceLimiter, Store, Trap,
    component::{Linker, Resource, ResourceTable},
};
use wasmtime_wasi::{
    WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
    p2::{DynPollable, pipe::MemoryOutputPipe},
};

use crate::{PluginError, engine::EPOCH_TICK};

/// Bytes of plugin stderr kept per call; a plugin writing more gets a closed stream.
const STDERR_CAPACITY: usize = 16 * 1024;
/// How much of stderr is quoted in a `crashed` error.
const STDERR_TAIL: usize = 2 * 1024;
/// Host log lines a plugin may emit per call, and their maximum length.
const LOG_LINES_PER_CALL: u32 = 64;
const LOG_LINE_MAX_BYTES: usize = 1024;

/// Resource budget of one plugin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLimits {
    /// Wasm fuel: roughly one unit per instruction.
    pub fuel: u64,
    /// Wall-clock deadline, enforced by epoch interruption.
    pub timeout: Duration,
    /// Largest linear memory, in bytes.
    pub memory_bytes: usize,
    /// Largest input accepted, in bytes.
    pub max_input_bytes: usize,
    /// Largest output accepted, in bytes of text.
    pub max_output_bytes: usize,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            fuel: 2_000_000_000,
            timeout: Duration::from_secs(2),
            memory_bytes: 64 << 20,
            max_input_bytes: 1 << 20,
            max_output_bytes: 4 << 20,
        }
    }
}

/// Store data of one call.
pub(crate) struct PluginState {
    pub(crate) plugin_id: String,
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    limiter: MemoryLimiter,
    log_budget: u32,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl PluginState {
    /// The most linear memory this call grew to, in bytes.
    pub(crate) fn peak_memory(&self) -> u64 {
        u64::try_from(self.limiter.peak).unwrap_or(u64::MAX)
    }

    /// Logs a line on the plugin's behalf, within the per-call budget.
    pub(crate) fn log(&mut self, level: tracing::Level, message: &str) {
        if self.log_budget == 0 {
            return;
        }
        self.log_budget -= 1;
        // Control characters (newlines, terminal escapes) could forge log lines.
        let message: String = truncate(message, LOG_LINE_MAX_BYTES)
            .chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect();
        let plugin = self.plugin_id.as_str();
        match level {
            tracing::Level::ERROR => tracing::error!(plugin, "{message}"),
            tracing::Level::WARN => tracing::warn!(plugin, "{message}"),
            tracing::Level::INFO => tracing::info!(plugin, "{message}"),
            tracing::Level::DEBUG => tracing::debug!(plugin, "{message}"),
            tracing::Level::TRACE => tracing::trace!(plugin, "{message}"),
        }
    }
}

/// Denies memory growth past the limit and remembers that it did, so the resulting
/// trap is reported as `memory_limit` rather than a generic crash.
struct MemoryLimiter {
    memory_bytes: usize,
    denied: bool,
    peak: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.denied = true;
            return Err(wasmtime::format_err!("memory limit exceeded"));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        16
    }

    fn tables(&self) -> usize {
        16
    }

    fn memories(&self) -> usize {
        4
    }
}

/// The WASI interface the host implements for plugins.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Links WASI p2 for plugins, minus timers. A timer is the one way a plugin could block
/// inside a host call, where neither fuel nor the epoch deadline reaches it; without
/// one, every wait a plugin can start ends at once.
pub(crate) fn add_wasi_to_linker(linker: &mut Linker<PluginState>) -> Result<(), PluginError> {
    let engine_error = |e: wasmtime::Error| PluginError::Engine(format!("{e:#}"));
    wasmtime_wasi::p2::add_to_linker_sync(linker).map_err(engine_error)?;
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK).map_err(engine_error)?;
    for timer in ["subscribe-duration", "subscribe-instant"] {
        clock
            .func_wrap(
                timer,
                |_store, (_when,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
                    Err(wasmtime::format_err!("plugins may not sleep or set timers"))
                },
            )
            .map_err(engine_error)?;
    }
    linker.allow_shadowing(false);
    Ok(())
}

/// A fresh store for one call: empty WASI, the budget of `limits`.
fn new_store(
    engine: &wasmtime::Engine,
    plugin_id: &str,
    limits: &PluginLimits,
) -> Result<Store<PluginState>, PluginError> {
    let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
    // Deliberately empty: no preopened directories, no sockets, no environment,
    // no arguments, no stdin. Only stderr, captured in memory.
    let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
    let state = PluginState {
        plugin_id: plugin_id.to_owned(),
        wasi,
        table: ResourceTable::new(),
        stderr,
        limiter: MemoryLimiter {
            memory_bytes: limits.memory_bytes,
            denied: false,
            peak: 0,
        },
        log_budget: LOG_LINES_PER_CALL,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    store
        .set_fuel(limits.fuel)
        .map_err(|e| PluginError::Engine(e.to_string()))?;
    let ticks = limits
        .timeout
        .as_millis()
        .div_ceil(EPOCH_TICK.as_millis())
        .max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    Ok(store)
}

/// Turns a failed call into the typed error a user can act on.
fn classify(
    error: wasmtime::Error,
    store: &Store<PluginState>,
    limits: &PluginLimits,
) -> PluginError {
    let state = store.data();
    let plugin = state.plugin_id.clone();
    if state.limiter.denied {
        return PluginError::MemoryLimit {
            plugin,
            limit_bytes: limits.memory_bytes,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginError::OutOfFuel {
            plugin,
            fuel: limits.fuel,
        },
        Some(Trap::Interrupt) => PluginError::Timeout {
            plugin,
            timeout_ms: u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
        },
        _ => {
            let stderr = state.stderr.contents();
            let start = stderr.len().saturating_sub(STDERR_TAIL);
            PluginError::Crashed {
                plugin,
                // The root cause ("wasm `unreachable` executed", a host refusal), not
                // the wasm backtrace wrapped around it.
                reason: error.root_cause().to_string(),
                stderr_tail: String::from_utf8_lossy(&stderr[start..]).into_owned(),
            }
        }
    }
}

fn truncate(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Compiles `wasm` (or takes it from the cache) and links it against the host: WASI
/// (see [`add_wasi_to_linker`]) plus the world `add_world` adds. A component that does
/// not fit is refused here as `incompatible_api`, never at call time.
fn link(
    engine: &crate::PluginEngine,
    plugin: &str,
    wasm: &[u8],
    add_world: impl FnOnce(&mut Linker<PluginState>) -> wasmtime::Result<()>,
) -> Result<(wasmtime::component::InstancePre<PluginState>, crate::Origin), PluginError> {
    let (component, origin) = engine.compile(plugin, wasm)?;
    let mut linker = Linker::<PluginState>::new(engine.engine());
    add_wasi_to_linker(&mut linker)?;
    add_world(&mut linker).map_err(|e| PluginError::Engine(e.to_string()))?;
    let instance_pre = linker
        .instantiate_pre(&component)
        .map_err(|e| incompatible(plugin, &e))?;
    Ok((instance_pre, origin))
}

fn incompatible(plugin: &str, error: &wasmtime::Error) -> PluginError {
    PluginError::IncompatibleApi {
        plugin: plugin.to_owned(),
        reason: format!("{error:#}"),
    }
}

/// What every loaded plugin holds, whatever its world: its id, the linked component
/// (`P`, the world's `…Pre`), its limits and health, and where its code came from.
pub(crate) struct Sandboxed<P> {
    pub(crate) id: String,
    engine: crate::PluginEngine,
    pre: P,
    pub(crate) limits: PluginLimits,
    health: crate::health::PluginHealth,
    origin: crate::Origin,
}

impl<P> Sandboxed<P> {
    /// Compiles and links `wasm` with `add_world`, then types it with `pre`. A
    /// component that does not fit is refused here as `incompatible_api`.
    pub(crate) fn load(
        engine: &crate::PluginEngine,
        id: &str,
        wasm: &[u8],
        limits: PluginLimits,
        add_world: impl FnOnce(&mut Linker<PluginState>) -> wasmtime::Result<()>,
        pre: impl FnOnce(wasmtime::component::InstancePre<PluginState>) -> wasmtime::Result<P>,
    ) -> Result<Self, PluginError> {
        let (instance_pre, origin) = link(engine, id, wasm, add_world)?;
        let pre = pre(instance_pre).map_err(|e| incompatible(id, &e))?;
        Ok(Self {
            id: id.to_owned(),
            engine: engine.clone(),
            pre,
            limits,
            health: crate::health::PluginHealth::new(crate::QuarantinePolicy::default()),
            origin,
        })
    }

    pub(crate) fn set_quarantine(&mut self, policy: crate::QuarantinePolicy) {
        self.health = crate::health::PluginHealth::new(policy);
    }

    pub(crate) fn origin(&self) -> crate::Origin {
        self.origin
    }

    pub(crate) fn stats(&self) -> crate::PluginStats {
        self.health.stats()
    }

    /// One accounted call: the quarantine check, a fresh store, `call`, the typed
    /// error, `check` on the answer, and the counters (fuel, time, peak memory)
    /// whatever the outcome.
    pub(crate) fn call<T, R>(
        &self,
        call: impl FnOnce(&P, &mut Store<PluginState>) -> wasmtime::Result<T>,
        check: impl FnOnce(T) -> Result<R, PluginError>,
    ) -> Result<R, PluginError> {
        let (plugin, limits) = (self.id.as_str(), &self.limits);
        self.health.admit(plugin)?;
        let started = std::time::Instant::now();
        let mut store = new_store(self.engine.engine(), plugin, limits)?;
        let outcome = call(&self.pre, &mut store)
            .map_err(|error| classify(error, &store, limits))
            .and_then(check);
        let usage = crate::health::Usage {
            fuel: limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
            elapsed: started.elapsed(),
            peak_memory_bytes: store.data().peak_memory(),
        };
        self.health.record(plugin, &outcome, usage);
        outcome
    }
}
