//! Parsing source files into symbols and chunks: by the best language-parser plugin
//! for the file, falling back through the others that claim it, and finally to the
//! built-in generic parser — so a file always gets chunks, whatever the plugins do.

use std::sync::Arc;

use kiln_plugin_host::PluginError;
use kiln_plugin_sdk::parser::LanguageParser;
use kiln_types::{OutlineState, ParsedFile};

use crate::{ServiceError, notebook, plugins::PluginRegistry};

mod cells;

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

    /// Parses `source` (the file at `path` inside its project). Always gives chunks:
    /// when no parser gives an outline, the built-in parser's, and the outcome says
    /// why (no parser; this file unreadable; the parser unavailable).
    pub async fn parse(&self, path: &str, source: String) -> Result<Parsed, ServiceError> {
        if notebook::is_notebook(path) {
            return self.parse_notebook(path, source).await;
        }
        self.parse_source(path, source).await
    }

    async fn parse_source(&self, path: &str, source: String) -> Result<Parsed, ServiceError> {
        let budget = self.max_chunk_bytes;
        // A language parser's outline when one claims the file; else a catch-all
        // plugin's chunks, no outline to expect. A failing language parser is stood in
        // for by the built-in parser, never by a catch-all plugin: so the file is known
        // to be waiting for its parser, or unreadable by it — not quietly "parsed".
        let (specific, any) = self.plugins.parsers_for(path);
        let language_parser = !specific.is_empty();
        let parsers = if language_parser { specific } else { any };
        let asked = if language_parser { parsers.len() } else { 0 };
        let input: Arc<(String, String)> = Arc::new((path.to_owned(), source));
        let fallback = input.clone();
        self.plugins
            .call_with_fallback(
                "parsing",
                path.to_owned(),
                parsers,
                move |parser| {
                    let file = parser.parse(&input.0, &input.1, budget)?;
                    let outline = if language_parser || !file.symbols.is_empty() {
                        OutlineState::Parsed
                    } else {
                        OutlineState::None
                    };
                    Ok(Parsed {
                        file,
                        outline,
                        reason: None,
                    })
                },
                // The built-in parser takes any input the plugins refuse.
                |_| false,
                move |failures| {
                    let (outline, reason) = without_outline(asked, &failures);
                    Ok(Parsed {
                        file: built_in(&fallback.0, &fallback.1, budget)?,
                        outline,
                        reason,
                    })
                },
            )
            .await
    }
}

/// A file's chunks and symbols, and where its outline came from.
#[derive(Debug)]
pub struct Parsed {
    pub file: ParsedFile,
    pub outline: OutlineState,
    /// For the user, when no parser gave the outline although one claims the file.
    pub reason: Option<String>,
}

/// Why `asked` parsers gave no outline: none claims the file; each one that was
/// called failed on this input — refused it, or trapped, timed out or ran out of
/// fuel or memory reading it (a per-file outcome: parsing it again would only fail the
/// parser again); or one was unavailable — in quarantine, answering outside its
/// contract, or every slot busy — which a later attempt may cure.
fn without_outline(asked: usize, failures: &[PluginError]) -> (OutlineState, Option<String>) {
    if asked == 0 {
        return (OutlineState::None, None);
    }
    let per_file = |error: &PluginError| {
        matches!(
            error,
            PluginError::Reported { .. }
                | PluginError::InputTooLarge { .. }
                | PluginError::Crashed { .. }
                | PluginError::Timeout { .. }
                | PluginError::OutOfFuel { .. }
                | PluginError::MemoryLimit { .. }
        )
    };
    match failures.first() {
        None => (
            OutlineState::Fallback,
            Some("every parser slot was busy".to_owned()),
        ),
        Some(first) if failures.len() == asked && failures.iter().all(per_file) => {
            let reason = match first {
                PluginError::Reported { plugin, message } => format!("{plugin}: {message}"),
                other => other.to_string(),
            };
            (OutlineState::Unparsable, Some(reason))
        }
        Some(first) => {
            let unavailable = failures.iter().find(|e| !per_file(e)).unwrap_or(first);
            (OutlineState::Fallback, Some(unavailable.to_string()))
        }
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

#[cfg(test)]
mod tests {
    use kiln_plugin_host::PluginError;
    use kiln_types::OutlineState;

    use super::without_outline;

    #[test]
    fn a_file_that_breaks_its_parser_is_unparsable_and_an_unavailable_parser_is_waited_for() {
        let crashed = PluginError::Crashed {
            plugin: "kiln.parser.javascript".into(),
            reason: "wasm trap: call stack exhausted".into(),
            stderr_tail: String::new(),
        };
        let refused = PluginError::Reported {
            plugin: "kiln.parser.python".into(),
            message: "a.py:1:5: invalid syntax".into(),
        };
        let quarantined = PluginError::Quarantined {
            plugin: "kiln.parser.javascript".into(),
            retry_in_ms: 1000,
        };
        let (state, reason) = without_outline(1, std::slice::from_ref(&crashed));
        assert_eq!(
            state,
            OutlineState::Unparsable,
            "parsing it again would crash again"
        );
        assert!(reason.unwrap().contains("call stack exhausted"));
        let (state, reason) = without_outline(1, std::slice::from_ref(&refused));
        assert_eq!(
            (state, reason.as_deref()),
            (
                OutlineState::Unparsable,
                Some("kiln.parser.python: a.py:1:5: invalid syntax")
            )
        );
        assert_eq!(without_outline(1, &[quarantined]).0, OutlineState::Fallback);
        assert_eq!(
            without_outline(1, &[]).0,
            OutlineState::Fallback,
            "every slot busy"
        );
        assert_eq!(without_outline(0, &[]).0, OutlineState::None);
        // Of two parsers, one unavailable: a later attempt may still get an outline.
        let unavailable = PluginError::InvalidOutput {
            plugin: "acme.bad".into(),
            reason: "overlapping chunks".into(),
        };
        assert_eq!(
            without_outline(2, &[refused, unavailable]).0,
            OutlineState::Fallback
        );
    }
}
