//! Parsing source files into symbols and chunks: by the best language-parser plugin
//! for the file, falling back through the others that claim it, and finally to the
//! built-in generic parser — so a file always gets chunks, whatever the plugins do.

use std::sync::Arc;

use kiln_plugin_host::PluginError;
use kiln_plugin_sdk::parser::LanguageParser;
use kiln_types::{CodeChunk, CodeSymbol, OutlineState, ParsedFile, TextSpan};

use crate::{ServiceError, notebook, plugins::PluginRegistry};

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

impl ParserService {
    /// A notebook by its cells: each code cell parsed as the kernel's language (its
    /// symbols placed in the notebook's own bytes and lines), every cell's source
    /// chunked for search — never the outputs. Not a notebook after all: the built-in
    /// parser's chunks, and the reason.
    async fn parse_notebook(&self, path: &str, source: String) -> Result<Parsed, ServiceError> {
        let cells = match notebook::cells(&source) {
            Ok(cells) => cells,
            Err(why) => {
                let mut parsed = self.parse_source(path, source).await?;
                parsed.outline = OutlineState::Unparsable;
                parsed.reason = Some(format!("not a readable notebook: {why}"));
                return Ok(parsed);
            }
        };
        let language = notebook::kernel_language(&source).unwrap_or_else(|| "python".into());
        let extension = match language.as_str() {
            "python" => "py",
            "javascript" => "js",
            "typescript" => "ts",
            "rust" => "rs",
            "julia" => "jl",
            "ruby" => "rb",
            other => other,
        };
        let lines = LineIndex::new(&source);
        let span = |range: std::ops::Range<usize>| lines.span(range);
        let mut symbols: Vec<CodeSymbol> = Vec::new();
        let mut outcomes = Vec::new();
        for (index, cell) in cells.iter().enumerate() {
            if cell.kind != notebook::CellKind::Code || cell.pieces.is_empty() {
                continue;
            }
            let code = cell.source();
            // IPython's `%magic` and `!shell` lines are not Python: blanked, same length.
            let code = if language == "python" {
                without_magics(&code)
            } else {
                code
            };
            let cell_path = format!("{path}#cell-{}.{extension}", index + 1);
            let parsed = self.parse_source(&cell_path, code).await?;
            let first = u32::try_from(symbols.len()).unwrap_or(u32::MAX);
            for symbol in parsed.file.symbols {
                let decoded = symbol.span.start_byte as usize..symbol.span.end_byte as usize;
                let Some(located) = cell.locate(decoded) else {
                    continue;
                };
                symbols.push(CodeSymbol {
                    span: span(located),
                    parent: symbol.parent.map(|p| p + first),
                    ..symbol
                });
            }
            outcomes.push((index + 1, parsed.file.parser, parsed.outline, parsed.reason));
        }
        let chunks = cells
            .iter()
            .flat_map(|cell| chunk_pieces(&cell.pieces, self.max_chunk_bytes as usize))
            .map(|range| CodeChunk {
                span: span(range),
                symbol: None,
            })
            .collect();
        let (parser, outline, reason) = notebook_outline(outcomes);
        Ok(Parsed {
            file: ParsedFile {
                language,
                parser,
                symbols,
                chunks,
            },
            outline,
            reason,
        })
    }
}

/// The notebook's outline state from its code cells' `(cell, parser, state, reason)`:
/// the worst of them (a cell the parser could not read, then one waiting for its
/// parser), named by cell; no code cells at all is no outline to have.
fn notebook_outline(
    outcomes: Vec<(usize, String, OutlineState, Option<String>)>,
) -> (String, OutlineState, Option<String>) {
    let parser = outcomes
        .iter()
        .map(|(_, parser, _, _)| parser.clone())
        .find(|parser| parser != BUILT_IN)
        .unwrap_or_else(|| BUILT_IN.to_owned());
    for worst in [
        OutlineState::Unparsable,
        OutlineState::Fallback,
        OutlineState::None,
    ] {
        if let Some((cell, _, state, reason)) = outcomes.iter().find(|o| o.2 == worst) {
            let reason = reason.as_ref().map(|r| format!("cell {cell}: {r}"));
            return (parser, *state, reason);
        }
    }
    let state = if outcomes.is_empty() {
        OutlineState::None
    } else {
        OutlineState::Parsed
    };
    (parser, state, None)
}

/// `code` with IPython magics (`%time`, `%%bash`) and shell escapes (`!pip …`) blanked
/// out, byte for byte.
fn without_magics(code: &str) -> String {
    code.split_inclusive('\n')
        .map(|line| {
            let body = line.trim_start();
            if body.starts_with('%') || body.starts_with('!') {
                // As many spaces as the character had bytes: offsets stay put.
                line.chars()
                    .map(|c| match c {
                        '\n' | '\r' => c.to_string(),
                        _ => " ".repeat(c.len_utf8()),
                    })
                    .collect()
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The file ranges of `pieces` grouped into chunks of at most `budget` bytes (a piece
/// larger than that is a chunk of its own).
fn chunk_pieces(pieces: &[notebook::Piece], budget: usize) -> Vec<std::ops::Range<usize>> {
    let mut chunks: Vec<std::ops::Range<usize>> = Vec::new();
    for piece in pieces {
        match chunks.last_mut() {
            Some(chunk) if piece.json.end - chunk.start <= budget => chunk.end = piece.json.end,
            _ => chunks.push(piece.json.clone()),
        }
    }
    chunks
}

/// 1-based line numbers of byte offsets (a line ends at LF, CRLF or a bare CR).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (at, &byte) in bytes.iter().enumerate() {
            let ends = byte == b'\n' || (byte == b'\r' && bytes.get(at + 1) != Some(&b'\n'));
            if ends {
                starts.push(at + 1);
            }
        }
        Self { starts }
    }

    fn line(&self, offset: usize) -> u32 {
        u32::try_from(self.starts.partition_point(|&start| start <= offset)).unwrap_or(u32::MAX)
    }

    fn span(&self, range: std::ops::Range<usize>) -> TextSpan {
        TextSpan {
            start_byte: u32::try_from(range.start).unwrap_or(u32::MAX),
            end_byte: u32::try_from(range.end).unwrap_or(u32::MAX),
            start_line: self.line(range.start),
            end_line: self.line(range.end.saturating_sub(1).max(range.start)),
        }
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

/// Why `asked` parsers gave no outline: none claims the file; each one that answered
/// could not read this input (a per-file outcome); or one was unavailable — failing,
/// in quarantine, or every slot busy — which a later attempt may cure.
fn without_outline(asked: usize, failures: &[PluginError]) -> (OutlineState, Option<String>) {
    if asked == 0 {
        return (OutlineState::None, None);
    }
    let per_file = |error: &PluginError| {
        matches!(
            error,
            PluginError::Reported { .. } | PluginError::InputTooLarge { .. }
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
