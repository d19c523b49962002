//! Code snippets extracted from Markdown: by the snippet-extractor plugin, or — when
//! none is loaded, it fails, or it is in quarantine — by the same rules built in.

use std::{sync::Arc, time::Duration};

use tokio::sync::Semaphore;

use kiln_plugin_host::{PluginError, PluginStats, SnippetExtractorPlugin};
use kiln_types::{ApiError, ErrorKind, MARKDOWN_MAX_BYTES, Snippet};

use crate::ServiceError;

/// How long a request waits for a free plugin slot before it is told to retry.
const SLOT_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SnippetService {
    extractor: Option<Arc<SnippetExtractorPlugin>>,
    /// Plugin calls burn CPU until their deadline: at most this many run at once, so a
    /// flood of hostile input cannot starve the server's own threads.
    slots: Arc<Semaphore>,
}

impl SnippetService {
    /// `extractor` is `None` when no snippet-extractor plugin could be loaded.
    pub fn new(extractor: Option<SnippetExtractorPlugin>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            extractor: extractor.map(Arc::new),
            slots: Arc::new(Semaphore::new(cores)),
        }
    }

    pub async fn extract(&self, markdown: String) -> Result<Vec<Snippet>, ServiceError> {
        if markdown.len() > MARKDOWN_MAX_BYTES {
            return Err(ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!("markdown is limited to {MARKDOWN_MAX_BYTES} bytes"),
            )
            .into());
        }
        let Some(extractor) = self.extractor.clone() else {
            return Ok(built_in(&markdown));
        };
        let Ok(slot) = tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned()).await
        else {
            tracing::warn!("all plugin slots stayed busy; using the built-in extractor");
            return Ok(built_in(&markdown));
        };
        let slot = slot.map_err(|_| ServiceError::Internal("plugin slots closed".into()))?;
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

    /// The plugin's counters, when one is loaded.
    pub fn plugin_stats(&self) -> Option<PluginStats> {
        self.extractor.as_ref().map(|plugin| plugin.stats())
    }

    /// The loaded plugin, for administrators.
    pub fn plugins(&self) -> Vec<kiln_types::PluginSummary> {
        self.extractor
            .iter()
            .map(|plugin| summary(plugin.id(), "snippet-extractor", &plugin.stats()))
            .collect()
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

fn summary(id: &str, kind: &str, stats: &PluginStats) -> kiln_types::PluginSummary {
    kiln_types::PluginSummary {
        id: id.to_owned(),
        kind: kind.to_owned(),
        api_version: kiln_plugin_host::API_VERSION.to_owned(),
        status: if stats.quarantined {
            "quarantined"
        } else {
            "active"
        }
        .to_owned(),
        calls: stats.calls,
        failures: stats
            .failures
            .iter()
            .map(|(code, count)| ((*code).to_owned(), *count))
            .collect(),
        skipped: stats.skipped,
        fuel_consumed: stats.fuel_consumed,
        busy_ms: u64::try_from(stats.busy.as_millis()).unwrap_or(u64::MAX),
    }
}
