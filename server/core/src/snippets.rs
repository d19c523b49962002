//! Code snippets extracted from Markdown: by the snippet-extractor plugin, or — when
//! none is loaded, it fails, or it is in quarantine — by the same rules built in.

use kiln_plugin_host::{PluginError, PluginStats};
use kiln_types::{ApiError, ErrorKind, MARKDOWN_MAX_BYTES, Snippet};

use crate::{ServiceError, plugins::PluginRegistry};

#[derive(Clone, Debug)]
pub struct SnippetService {
    plugins: PluginRegistry,
}

impl SnippetService {
    pub fn new(plugins: PluginRegistry) -> Self {
        Self { plugins }
    }

    pub async fn extract(&self, markdown: String) -> Result<Vec<Snippet>, ServiceError> {
        if markdown.len() > MARKDOWN_MAX_BYTES {
            return Err(ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!("markdown is limited to {MARKDOWN_MAX_BYTES} bytes"),
            )
            .into());
        }
        let Some(extractor) = self.plugins.snippet_extractor() else {
            return Ok(built_in(&markdown));
        };
        let Some(slot) = self.plugins.slot().await else {
            tracing::warn!("all plugin slots stayed busy; using the built-in extractor");
            return Ok(built_in(&markdown));
        };
        // Plugin calls block a thread for up to their deadline: keep them off the
        // async workers.
        let plugin = extractor.id().to_owned();
        let (result, markdown) = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            (extractor.extract(&markdown), markdown)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("plugin task failed: {e}")))?;
        match result {
            Ok(snippets) => Ok(snippets),
            // The caller's own mistake, not the plugin's: say so.
            Err(error @ PluginError::InputTooLarge { .. }) => Err(ServiceError::Plugin(error)),
            Err(error) => {
                let stderr_tail = match &error {
                    PluginError::Crashed { stderr_tail, .. } => stderr_tail.as_str(),
                    _ => "",
                };
                tracing::warn!(plugin, code = error.code(), %error, stderr_tail, "plugin call failed; using the built-in extractor");
                Ok(built_in(&markdown))
            }
        }
    }

    /// The current extractor's counters, when one is enabled.
    pub fn plugin_stats(&self) -> Option<PluginStats> {
        self.plugins
            .snippet_extractor()
            .map(|plugin| plugin.stats())
    }
}

/// The built-in extractor: the plugin's rules, compiled natively.
fn built_in(markdown: &str) -> Vec<Snippet> {
    kiln_snippet_rules::extract(markdown)
        .into_iter()
        .map(|block| Snippet {
            language: block.language,
            info: block.info,
            code: block.code,
            start_line: block.start_line,
            end_line: block.end_line,
        })
        .collect()
}
