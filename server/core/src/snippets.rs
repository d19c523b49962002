//! Code snippets extracted from Markdown by the snippet-extractor plugin.

use std::{sync::Arc, time::Duration};

use tokio::sync::Semaphore;

use kiln_plugin_host::{PluginError, SnippetExtractorPlugin};
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
        let extractor = self.extractor.clone().ok_or_else(|| {
            ServiceError::Unavailable("no snippet-extractor plugin is loaded".into())
        })?;
        let slot = tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| {
                ServiceError::Unavailable("all plugin slots are busy; retry shortly".into())
            })?
            .map_err(|_| ServiceError::Internal("plugin slots closed".into()))?;
        // Plugin calls block a thread for up to their deadline: keep them off the
        // async workers.
        let plugin = extractor.id().to_owned();
        let result = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            extractor.extract(&markdown)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("plugin task failed: {e}")))?;
        result.map_err(|error| {
            let stderr_tail = match &error {
                PluginError::Crashed { stderr_tail, .. } => stderr_tail.as_str(),
                _ => "",
            };
            tracing::warn!(plugin, code = error.code(), %error, stderr_tail, "plugin call failed");
            ServiceError::Plugin(error)
        })
    }
}
