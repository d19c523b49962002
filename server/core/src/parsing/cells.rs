//! Notebooks parsed by their cells (see [`crate::notebook`] for where the cells are).

use kiln_plugin_host::span_of;
use kiln_plugin_sdk::text::TextIndex;
use kiln_types::{CodeChunk, CodeSymbol, OutlineState, ParsedFile};

use super::{BUILT_IN, Parsed, ParserService};
use crate::{ServiceError, notebook};

impl ParserService {
    /// A notebook by its cells: each code cell parsed as the kernel's language (its
    /// symbols placed in the notebook's own bytes and lines), every cell's source
    /// chunked for search — never the outputs. Not a notebook after all: the built-in
    /// parser's chunks, and the reason.
    pub(super) async fn parse_notebook(
        &self,
        path: &str,
        source: String,
    ) -> Result<Parsed, ServiceError> {
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
        let lines = TextIndex::new(&source);
        let span = |range: std::ops::Range<usize>| span_of(&lines, range.start, range.end);
        let mut symbols: Vec<CodeSymbol> = Vec::new();
        let mut outcomes = Vec::new();
        for (index, cell) in cells.iter().enumerate() {
            if cell.kind != notebook::CellKind::Code || cell.pieces.is_empty() {
                continue;
            }
            let code = cell.source();
            // A cell magic (`%%bash`, `%%sql`) makes the whole cell another language: it
            // is searchable text, with no outline to expect from the kernel's parser.
            if language == "python" && code.trim_start().starts_with("%%") {
                continue;
            }
            // Kernel commands are not the language: blanked, same length.
            let code = without_magics(&code, magic_prefixes(&language));
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

/// What starts a kernel's command lines: IPython's magics (`%time`, `%%bash`) and shell
/// escapes (`!pip …`), evcxr's (Rust) `:dep`.
fn magic_prefixes(language: &str) -> &'static [char] {
    match language {
        "python" => &['%', '!'],
        "rust" => &[':'],
        _ => &[],
    }
}

/// `code` with the lines starting with one of `prefixes` blanked out, byte for byte.
fn without_magics(code: &str, prefixes: &[char]) -> String {
    if prefixes.is_empty() {
        return code.to_owned();
    }
    code.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with(prefixes) {
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

#[cfg(test)]
mod tests {
    use super::{magic_prefixes, without_magics};

    #[test]
    fn kernel_commands_are_blanked_byte_for_byte() {
        let python = "%matplotlib inline\n!pip install é\ndef f():\n    return 1\n";
        let blanked = without_magics(python, magic_prefixes("python"));
        assert_eq!(blanked.len(), python.len());
        assert!(blanked.starts_with("                  \n"));
        assert!(blanked.ends_with("def f():\n    return 1\n"));
        let rust = ":dep serde = \"1\"\nfn main() {}\n";
        let blanked = without_magics(rust, magic_prefixes("rust"));
        assert_eq!(blanked, format!("{}\nfn main() {{}}\n", " ".repeat(16)));
        assert_eq!(without_magics("%x\n", magic_prefixes("r")), "%x\n");
    }
}
