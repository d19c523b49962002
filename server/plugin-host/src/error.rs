/// Why a plugin could not be loaded or did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error("plugin {plugin} ran out of fuel (budget {fuel} units)")]
    OutOfFuel { plugin: String, fuel: u64 },
    #[error("plugin {plugin} did not finish within {timeout_ms} ms")]
    Timeout { plugin: String, timeout_ms: u64 },
    #[error("plugin {plugin} exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit { plugin: String, limit_bytes: usize },
    #[error("plugin {plugin} crashed: {reason}")]
    Crashed {
        plugin: String,
        reason: String,
        /// The last bytes the plugin wrote to stderr.
        stderr_tail: String,
    },
    #[error("plugin {plugin} returned invalid output: {reason}")]
    InvalidOutput { plugin: String, reason: String },
    #[error("plugin {plugin} does not implement the expected API: {reason}")]
    IncompatibleApi { plugin: String, reason: String },
    #[error("input of {size} bytes exceeds the plugin input limit of {limit} bytes")]
    InputTooLarge { size: usize, limit: usize },
    #[error("plugin {plugin} reported an error: {message}")]
    Reported { plugin: String, message: String },
    #[error("plugin {plugin} is in quarantine after repeated failures (retry in {retry_in_ms} ms)")]
    Quarantined { plugin: String, retry_in_ms: u64 },
    #[error("plugin {plugin} cannot be loaded: {reason}")]
    InvalidManifest { plugin: String, reason: String },
    #[error("plugin engine failure: {0}")]
    Engine(String),
}

impl PluginError {
    /// Stable snake_case code for logs, metrics and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OutOfFuel { .. } => "out_of_fuel",
            Self::Timeout { .. } => "timeout",
            Self::MemoryLimit { .. } => "memory_limit",
            Self::Crashed { .. } => "crashed",
            Self::InvalidOutput { .. } => "invalid_output",
            Self::IncompatibleApi { .. } => "incompatible_api",
            Self::InputTooLarge { .. } => "input_too_large",
            Self::Reported { .. } => "reported_error",
            Self::Quarantined { .. } => "quarantined",
            Self::InvalidManifest { .. } => "invalid_manifest",
            Self::Engine(_) => "engine_error",
        }
    }
}
