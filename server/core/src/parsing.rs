//! Parsing source files into symbols and chunks: by the best language-parser plugin
//! for the file, falling back through the others that claim it, and finally to the
//! built-in generic parser — so a file always gets chunks, whatever the plugins do.

use kiln_plugin_host::PluginError;
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
        let parsers = self.plugins.parsers_for(path);
        let slot = if parsers.is_empty() {
            None
        } else {
            self.plugins.slot().await
        };
        let (path, budget) = (path.to_owned(), self.max_chunk_bytes);
        // Plugin calls block a thread for up to their deadline: keep them off the
        // async workers.
        tokio::task::spawn_blocking(move || {
            // Without a slot (none claims the file, or all stayed busy) only the
            // built-in parser runs; with one, the slot is held until the plugins are done.
            if let Some(_slot) = slot {
                for parser in parsers {
                    match parser.parse(&path, &source, budget) {
                        Ok(parsed) => return Ok(parsed),
                        Err(error) => log_failure(parser.id(), &path, &error),
                    }
                }
            }
            built_in(&path, &source, budget)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("parser task failed: {e}")))?
    }
}

fn log_failure(plugin: &str, path: &str, error: &PluginError) {
    let stderr_tail = match error {
        PluginError::Crashed { stderr_tail, .. } => stderr_tail.as_str(),
        _ => "",
    };
    tracing::warn!(plugin, path, code = error.code(), %error, stderr_tail, "parser failed; trying the next one");
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
