//! Parsing source files into symbols and chunks: by the best language-parser plugin
//! for the file, falling back through the others that claim it, and finally to the
//! built-in generic parser — so a file always gets chunks, whatever the plugins do.

use std::sync::Arc;

use kiln_plugin_sdk::parser::LanguageParser;
use kiln_types::ParsedFile;

use crate::{ServiceError, plugins::PluginRegistry};

/// Default upper bound of a chunk, in bytes (about 500 tokens of code).
pub const DEFAULT_MAX_CHUNK_BYTES: u32 = 2048;

/// Name of the built-in parser in `ParsedFile::parser`.
pub const BUILT_IN: &str = "built-in";

#[derive(Clone, Debug)]
pub struct ParserService {
    plugins: PluginRegistry,
    max_chunk_bytes: u32,
}

impl ParserService {
    pub fn new(plugins: PluginRegistry) -> Self {
        Self {
            plugins,
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
        }
    }

    /// Parses `source` (the file at `path` inside its project).
    pub async fn parse(&self, path: &str, source: String) -> Result<ParsedFile, ServiceError> {
        let budget = self.max_chunk_bytes;
        let input: Arc<(String, String)> = Arc::new((path.to_owned(), source));
        let fallback = input.clone();
        self.plugins
            .call_with_fallback(
                "parsing",
                path.to_owned(),
                self.plugins.parsers_for(path),
                move |parser| parser.parse(&input.0, &input.1, budget),
                // The built-in parser takes any input the plugins refuse.
                |_| false,
                move || built_in(&fallback.0, &fallback.1, budget),
            )
            .await
    }
}

/// The generic parser, compiled natively; its answer passes the same checks as a
/// plugin's.
pub fn built_in(path: &str, source: &str, budget: u32) -> Result<ParsedFile, ServiceError> {
    let max = usize::try_from(budget).unwrap_or(usize::MAX);
    let parsed = kiln_parser_generic::GenericParser::parse(path, source, max)
        .map_err(|e| ServiceError::Internal(format!("built-in parser: {e}")))?;
    Ok(kiln_plugin_host::check_parsed(
        BUILT_IN, source, &parsed, budget,
    )?)
}
