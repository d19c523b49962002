//! Code snippets extracted from Markdown: by the snippet-extractor plugin, or — when
//! none is loaded, it fails, or it is in quarantine — by the same rules built in.

use kiln_plugin_host::{PluginError, PluginStats};
use kiln_types::{MARKDOWN_MAX_BYTES, Snippet};

use std::sync::Arc;

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
            return Err(ServiceError::too_large(
                format!("markdown is limited to {MARKDOWN_MAX_BYTES} bytes"),
                MARKDOWN_MAX_BYTES as u64,
            ));
        }
        let markdown: Arc<str> = markdown.into();
        let input = markdown.clone();
        self.plugins
            .call_with_fallback(
                "snippet extraction",
                format!("{} bytes of markdown", markdown.len()),
                self.plugins.snippet_extractor().into_iter().collect(),
                move |extractor| extractor.extract(&input),
                // The caller's own mistake, not the plugin's: say so.
                |error| matches!(error, PluginError::InputTooLarge { .. }),
                move |_| Ok(built_in(&markdown)),
            )
            .await
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
