//! The `snippet-extractor` world.

use wasmtime::component::HasSelf;

use crate::{
    Origin, PluginEngine, PluginError, PluginLimits, PluginStats, QuarantinePolicy,
    health::PluginHealth,
    sandbox::{PluginState, accounted, incompatible, link},
};

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        world: "snippet-extractor",
        path: "../../wit",
    });
}

use bindings::{SnippetExtractor, SnippetExtractorPre, kiln::plugin::host};

impl host::Host for PluginState {
    fn log(&mut self, level: host::LogLevel, message: String) {
        let level = match level {
            host::LogLevel::Trace => tracing::Level::TRACE,
            host::LogLevel::Debug => tracing::Level::DEBUG,
            host::LogLevel::Info => tracing::Level::INFO,
            host::LogLevel::Warn => tracing::Level::WARN,
            host::LogLevel::Error => tracing::Level::ERROR,
        };
        PluginState::log(self, level, &message);
    }
}

/// A loaded snippet-extractor plugin, ready to be called from any thread.
pub struct SnippetExtractorPlugin {
    id: String,
    engine: PluginEngine,
    pre: SnippetExtractorPre<PluginState>,
    limits: PluginLimits,
    health: PluginHealth,
    origin: Origin,
}

impl SnippetExtractorPlugin {
    /// Compiles and links `wasm`. A component that is not a snippet extractor of a
    /// supported API version is refused here, never at call time.
    pub fn load(
        engine: &PluginEngine,
        id: &str,
        wasm: &[u8],
        limits: PluginLimits,
    ) -> Result<Self, PluginError> {
        let (instance_pre, origin) = link(engine, id, wasm, |linker| {
            SnippetExtractor::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
        })?;
        let pre = SnippetExtractorPre::new(instance_pre).map_err(|e| incompatible(id, &e))?;
        Ok(Self {
            id: id.to_owned(),
            engine: engine.clone(),
            pre,
            limits,
            health: PluginHealth::new(QuarantinePolicy::default()),
            origin,
        })
    }

    /// Replaces the default quarantine policy.
    pub fn with_quarantine(mut self, policy: QuarantinePolicy) -> Self {
        self.health = PluginHealth::new(policy);
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether loading compiled the component or found it in the cache.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Calls, failures by type, fuel, time, and whether it is in quarantine.
    pub fn stats(&self) -> PluginStats {
        self.health.stats()
    }

    /// Runs the plugin on `markdown`. Blocking: call it from a blocking thread.
    pub fn extract(&self, markdown: &str) -> Result<Vec<kiln_types::Snippet>, PluginError> {
        if markdown.len() > self.limits.max_input_bytes {
            return Err(PluginError::InputTooLarge {
                size: markdown.len(),
                limit: self.limits.max_input_bytes,
            });
        }
        accounted(
            &self.engine,
            &self.id,
            &self.limits,
            &self.health,
            |store| {
                let instance = self.pre.instantiate(&mut *store)?;
                instance
                    .kiln_plugin_snippets()
                    .call_extract(store, markdown)
            },
            |answer| match answer {
                Ok(snippets) => self.check_output(markdown, snippets),
                Err(message) => Err(PluginError::Reported {
                    plugin: self.id.clone(),
                    message: message.chars().take(1000).collect(),
                }),
            },
        )
    }

    /// Output is untrusted: cap its size and check spans against the input.
    fn check_output(
        &self,
        markdown: &str,
        snippets: Vec<bindings::exports::kiln::plugin::snippets::Snippet>,
    ) -> Result<Vec<kiln_types::Snippet>, PluginError> {
        let invalid = |reason: String| PluginError::InvalidOutput {
            plugin: self.id.clone(),
            reason,
        };
        let size: usize = snippets
            .iter()
            .map(|s| s.code.len() + s.info.len() + s.language.as_ref().map_or(0, String::len))
            .sum();
        if size > self.limits.max_output_bytes {
            return Err(invalid(format!(
                "{size} bytes of output exceed the limit of {}",
                self.limits.max_output_bytes
            )));
        }
        let line_count = u32::try_from(markdown.lines().count().max(1)).unwrap_or(u32::MAX);
        snippets
            .into_iter()
            .map(|s| {
                if s.start_line == 0 || s.start_line > s.end_line || s.end_line > line_count {
                    return Err(invalid(format!(
                        "span {}..{} is outside the document's {line_count} lines",
                        s.start_line, s.end_line
                    )));
                }
                Ok(kiln_types::Snippet {
                    language: s.language,
                    info: s.info,
                    code: s.code,
                    start_line: s.start_line,
                    end_line: s.end_line,
                })
            })
            .collect()
    }
}
