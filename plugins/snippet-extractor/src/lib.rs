//! Kiln's bundled snippet extractor: the shared rules (`kiln-snippet-rules`) behind the
//! `snippet-extractor` world.

wit_bindgen::generate!({
    world: "snippet-extractor",
    path: "../../wit",
});

use exports::kiln::plugin::snippets::{Guest, Snippet};

struct SnippetExtractor;

impl Guest for SnippetExtractor {
    fn extract(markdown: String) -> Result<Vec<Snippet>, String> {
        Ok(kiln_snippet_rules::extract(&markdown)
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

export!(SnippetExtractor);
