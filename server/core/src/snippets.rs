//! Code snippets extracted from Markdown by the snippet-extractor plugin.

use std::sync::Arc;

use kiln_plugin_host::SnippetExtractorPlugin;
use kiln_types::{ApiError, ErrorKind, MARKDOWN_MAX_BYTES, Snippet};

use crate::ServiceError;

#[derive(Clone)]
pub struct SnippetService {
    extractor: Option<Arc<SnippetExtractorPlugin>>,
}

impl SnippetService {
    /// `extractor` is `None` when no snippet-extractor plugin could be loaded.
    pub fn new(extractor: Option<SnippetExtractorPlugin>) -> Self {
        Self {
            extractor: extractor.map(Arc::new),
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
        // Plugin calls block a thread for up to their deadline: keep them off the
        // async workers.
        let plugin = extractor.id().to_owned();
        let result = tokio::task::spawn_blocking(move || extractor.extract(&markdown))
            .await
            .map_err(|e| ServiceError::Internal(format!("plugin task failed: {e}")))?;
        result.map_err(|error| {
            tracing::warn!(plugin, code = error.code(), %error, "plugin call failed");
            ServiceError::Plugin(error)
        })
    }
}
