//! The `snippet-extractor` world in plain Rust: implement [`SnippetExtractor`], export
//! it with [`export_snippet_extractor!`](crate::export_snippet_extractor).

/// One fenced code block (see `wit/snippets.wit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub language: Option<String>,
    pub info: String,
    pub code: String,
    pub start_line: u32,
    pub end_line: u32,
}

pub trait SnippetExtractor {
    /// Every fenced block of `markdown`, in document order.
    fn extract(markdown: &str) -> Result<Vec<Snippet>, String>;
}

/// Exports a [`SnippetExtractor`] as the plugin's `snippet-extractor` world.
#[macro_export]
macro_rules! export_snippet_extractor {
    ($extractor:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::bindings::snippets::exports::kiln::plugin::snippets as wit;

            struct Export;

            impl wit::Guest for Export {
                fn extract(markdown: String) -> Result<Vec<wit::Snippet>, String> {
                    let snippets =
                        <$extractor as $crate::snippets::SnippetExtractor>::extract(&markdown)?;
                    Ok(snippets
                        .into_iter()
                        .map(|s| wit::Snippet {
                            language: s.language,
                            info: s.info,
                            code: s.code,
                            start_line: s.start_line,
                            end_line: s.end_line,
                        })
                        .collect())
                }
            }

            $crate::bindings::snippets::export_snippet_extractor_world!(
                Export with_types_in $crate::bindings::snippets
            );
        };
    };
}
