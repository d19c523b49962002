//! Kiln's bundled snippet extractor: the shared rules (`kiln-snippet-rules`) behind the
//! `snippet-extractor` world, via the SDK.

use kiln_plugin_sdk::snippets::{Snippet, SnippetExtractor};

pub struct CommonMarkExtractor;

impl SnippetExtractor for CommonMarkExtractor {
    fn extract(markdown: &str) -> Result<Vec<Snippet>, String> {
        Ok(kiln_snippet_rules::extract(markdown)
            .into_iter()
            .map(|block| Snippet {
                language: block.language,
                info: block.info,
                code: block.code,
                start_line: block.start_line,
                end_line: block.end_line,
            })
            .collect())
    }
}

kiln_plugin_sdk::export_snippet_extractor!(CommonMarkExtractor);
