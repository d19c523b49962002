//! The `snippet-extractor` world.

use wasmtime::component::HasSelf;

use crate::{
    Origin, PluginEngine, PluginError, PluginLimits, PluginStats, QuarantinePolicy,
    sandbox::{PluginState, Sandboxed},
};

use crate::wit::v0_1_0::snippets::{SnippetExtractor, SnippetExtractorPre, kiln::plugin::host};

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
    sandbox: Sandboxed<SnippetExtractorPre<PluginState>>,
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
        let sandbox = Sandboxed::load(
            engine,
            id,
            wasm,
            limits,
            |linker| SnippetExtractor::add_to_linker::<_, HasSelf<_>>(linker, |state| state),
            SnippetExtractorPre::new,
        )?;
        Ok(Self { sandbox })
    }

    /// Replaces the default quarantine policy.
    pub fn with_quarantine(mut self, policy: QuarantinePolicy) -> Self {
        self.sandbox.set_quarantine(policy);
        self
    }

    pub fn id(&self) -> &str {
        &self.sandbox.id
    }

    /// Whether loading compiled the component or found it in the cache.
    pub fn origin(&self) -> Origin {
        self.sandbox.origin()
    }

    /// Calls, failures by type, fuel, time, and whether it is in quarantine.
    pub fn stats(&self) -> PluginStats {
        self.sandbox.stats()
    }

    /// Runs the plugin on `markdown`. Blocking: call it from a blocking thread.
    pub fn extract(&self, markdown: &str) -> Result<Vec<kiln_types::Snippet>, PluginError> {
        if markdown.len() > self.sandbox.limits.max_input_bytes {
            return Err(PluginError::InputTooLarge {
                size: markdown.len(),
                limit: self.sandbox.limits.max_input_bytes,
            });
        }
        self.sandbox.call(
            |pre, store| {
                let instance = pre.instantiate(&mut *store)?;
                instance
                    .kiln_plugin_snippets()
                    .call_extract(store, markdown)
            },
            |answer| match answer {
                Ok(snippets) => self.check_output(markdown, snippets),
                Err(message) => Err(PluginError::Reported {
                    plugin: self.sandbox.id.clone(),
                    message: message.chars().take(1000).collect(),
                }),
            },
        )
    }

    /// Output is untrusted: cap its size and check spans against the input.
    fn check_output(
        &self,
        markdown: &str,
        snippets: Vec<crate::wit::v0_1_0::snippets::exports::kiln::plugin::snippets::Snippet>,
    ) -> Result<Vec<kiln_types::Snippet>, PluginError> {
        let invalid = |reason: String| PluginError::InvalidOutput {
            plugin: self.sandbox.id.clone(),
            reason,
        };
        let size: usize = snippets
            .iter()
            .map(|s| s.code.len() + s.info.len() + s.language.as_ref().map_or(0, String::len))
            .sum();
        if size > self.sandbox.limits.max_output_bytes {
            return Err(invalid(format!(
                "{size} bytes of output exceed the limit of {}",
                self.sandbox.limits.max_output_bytes
            )));
        }
        // Lines as CommonMark counts them: LF, CRLF and a bare CR each end one.
        let lines = kiln_plugin_sdk::text::line_count(markdown).max(1);
        let line_count = u32::try_from(lines).unwrap_or(u32::MAX);
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
