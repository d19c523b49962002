//! The `language-parser` world in plain Rust: implement [`LanguageParser`], export it
//! with [`export_language_parser!`](crate::export_language_parser).

/// What a symbol is (see `wit/parser.wit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Module,
    Function,
    Method,
    Class,
    Struct,
    Enum,
    Interface,
    Trait,
    Impl,
    TypeAlias,
    Constant,
    Variable,
    Field,
    Macro,
    Heading,
    Other,
}

/// One named definition: `start..end` are byte offsets covering the whole definition
/// with its doc comments and attributes; `parent` indexes the enclosing symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub kind: SymbolKind,
    pub name: String,
    pub start: usize,
    pub end: usize,
    pub parent: Option<usize>,
}

/// A piece of the file for search: `start..end` in bytes, and the innermost symbol it
/// belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    pub symbol: Option<usize>,
}

/// What a parser found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    pub language: String,
    pub symbols: Vec<Symbol>,
}

impl Outline {
    pub fn new(language: &str, symbols: Vec<Symbol>) -> Self {
        Self {
            language: language.to_owned(),
            symbols,
        }
    }
}

/// A parser's answer: its outline plus chunks covering the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub language: String,
    pub symbols: Vec<Symbol>,
    pub chunks: Vec<Chunk>,
}

/// The longest symbol name Kiln accepts, in bytes.
pub const MAX_NAME_BYTES: usize = 512;

/// Whether Kiln accepts `name`: at most [`MAX_NAME_BYTES`] long, without control
/// characters (line breaks among them).
pub fn acceptable_name(name: &str) -> bool {
    name.len() <= MAX_NAME_BYTES && !name.contains(char::is_control)
}

/// `name` made acceptable: a name taken from source text may span lines (with any line
/// ending), which become spaces, and be of any length.
pub fn clean_name(name: &str) -> String {
    let words: Vec<String> = name
        .split(char::is_whitespace)
        .map(|word| word.replace(char::is_control, ""))
        .filter(|word| !word.is_empty())
        .collect();
    let mut clean = words.join(" ");
    clean.truncate(crate::text::floor_char_boundary(&clean, MAX_NAME_BYTES));
    clean
}

impl Parsed {
    /// Checks the contract of `wit/parser.wit` against `source`: symbol names of one
    /// line, spans within the source on character boundaries, parents before their
    /// children, chunks that tile the source from its first byte to its last, each
    /// within `max_chunk_bytes` unless it holds no whitespace to cut at (one over-long
    /// token). Kiln refuses an answer that fails this; plugin authors call it in their
    /// tests.
    pub fn check(&self, source: &str, max_chunk_bytes: usize) -> Result<(), String> {
        let in_source = |start: usize, end: usize| {
            start <= end
                && end <= source.len()
                && source.is_char_boundary(start)
                && source.is_char_boundary(end)
        };
        for (index, symbol) in self.symbols.iter().enumerate() {
            if !acceptable_name(&symbol.name) {
                return Err(format!(
                    "symbol {index} has an over-long or control-character name"
                ));
            }
            if !in_source(symbol.start, symbol.end) {
                return Err(format!(
                    "symbol {index} span {}..{} is not a range of the {} bytes of source",
                    symbol.start,
                    symbol.end,
                    source.len()
                ));
            }
            if symbol.parent.is_some_and(|parent| parent >= index) {
                return Err(format!("symbol {index}'s parent does not come before it"));
            }
        }
        let mut covered = 0;
        for chunk in &self.chunks {
            if chunk.start != covered
                || chunk.end <= chunk.start
                || !in_source(chunk.start, chunk.end)
            {
                return Err(format!(
                    "chunks must tile the source; one spans {}..{} where {covered}.. was next",
                    chunk.start, chunk.end
                ));
            }
            let text = &source[chunk.start..chunk.end];
            if text.len() > max_chunk_bytes && text.contains(char::is_whitespace) {
                return Err(format!(
                    "a chunk of {} bytes exceeds the budget of {max_chunk_bytes}",
                    text.len()
                ));
            }
            if chunk
                .symbol
                .is_some_and(|symbol| symbol >= self.symbols.len())
            {
                return Err("a chunk names a symbol that does not exist".into());
            }
            covered = chunk.end;
        }
        if covered != source.len() {
            return Err(format!("chunks end at byte {covered} of {}", source.len()));
        }
        Ok(())
    }
}

/// What a parser claims (see `parser-info` in `wit/parser.wit`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParserInfo {
    pub languages: Vec<String>,
    pub extensions: Vec<String>,
    pub filenames: Vec<String>,
}

impl ParserInfo {
    pub fn new(languages: &[&str], extensions: &[&str]) -> Self {
        Self {
            languages: languages.iter().map(|s| (*s).to_owned()).collect(),
            extensions: extensions.iter().map(|s| (*s).to_owned()).collect(),
            filenames: Vec::new(),
        }
    }

    pub fn with_filenames(mut self, filenames: &[&str]) -> Self {
        self.filenames = filenames.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

/// A language parser. Implement `info` and `outline`; the SDK cuts the chunks from
/// the outline's symbols (override `parse` to cut them yourself).
pub trait LanguageParser {
    fn info() -> ParserInfo;

    /// The file's language and symbols, in source order, parents before children.
    fn outline(path: &str, source: &str) -> Result<Outline, String>;

    /// The outline with names made acceptable ([`clean_name`]), and chunks cut along it.
    fn parse(path: &str, source: &str, max_chunk_bytes: usize) -> Result<Parsed, String> {
        let mut outline = Self::outline(path, source)?;
        for symbol in &mut outline.symbols {
            if !acceptable_name(&symbol.name) {
                symbol.name = clean_name(&symbol.name);
            }
        }
        let chunks = crate::chunking::chunk(source, &outline.symbols, max_chunk_bytes);
        Ok(Parsed {
            language: outline.language,
            symbols: outline.symbols,
            chunks,
        })
    }
}

/// Exports a [`LanguageParser`] as the plugin's `language-parser` world. Expands to
/// nothing outside WebAssembly, so the same crate also builds as a native library.
#[macro_export]
macro_rules! export_language_parser {
    ($parser:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::bindings::parser::exports::kiln::plugin::language_parser as wit;

            struct Export;

            impl wit::Guest for Export {
                fn info() -> wit::ParserInfo {
                    $crate::parser::wit::info(<$parser as $crate::parser::LanguageParser>::info())
                }

                fn parse(request: wit::ParseRequest) -> Result<wit::Parsed, String> {
                    let max = request.max_chunk_bytes as usize;
                    <$parser as $crate::parser::LanguageParser>::parse(
                        &request.path,
                        &request.source,
                        max,
                    )
                    .map($crate::parser::wit::parsed)
                }
            }

            $crate::bindings::parser::export_language_parser_world!(
                Export with_types_in $crate::bindings::parser
            );
        };
    };
}

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wit {
    use super::{Parsed, ParserInfo, SymbolKind};
    use crate::bindings::parser::exports::kiln::plugin::language_parser as wit;

    pub fn info(info: ParserInfo) -> wit::ParserInfo {
        wit::ParserInfo {
            languages: info.languages,
            extensions: info.extensions,
            filenames: info.filenames,
        }
    }

    pub fn parsed(parsed: Parsed) -> wit::Parsed {
        let span = |start: usize, end: usize| wit::Span {
            start: offset(start),
            end: offset(end),
        };
        wit::Parsed {
            language: parsed.language,
            symbols: parsed
                .symbols
                .into_iter()
                .map(|symbol| wit::Symbol {
                    kind: kind(symbol.kind),
                    name: symbol.name,
                    span: span(symbol.start, symbol.end),
                    parent: symbol.parent.map(offset),
                })
                .collect(),
            chunks: parsed
                .chunks
                .into_iter()
                .map(|chunk| wit::Chunk {
                    span: span(chunk.start, chunk.end),
                    symbol: chunk.symbol.map(offset),
                })
                .collect(),
        }
    }

    // Inputs are far below 4 GiB (the host caps them), so offsets always fit.
    fn offset(value: usize) -> u32 {
        u32::try_from(value).unwrap_or(u32::MAX)
    }

    fn kind(kind: SymbolKind) -> wit::SymbolKind {
        match kind {
            SymbolKind::Module => wit::SymbolKind::Module,
            SymbolKind::Function => wit::SymbolKind::Function,
            SymbolKind::Method => wit::SymbolKind::Method,
            SymbolKind::Class => wit::SymbolKind::Class,
            SymbolKind::Struct => wit::SymbolKind::Struct,
            SymbolKind::Enum => wit::SymbolKind::Enum,
            SymbolKind::Interface => wit::SymbolKind::Interface,
            SymbolKind::Trait => wit::SymbolKind::Trait,
            SymbolKind::Impl => wit::SymbolKind::Impl,
            SymbolKind::TypeAlias => wit::SymbolKind::TypeAlias,
            SymbolKind::Constant => wit::SymbolKind::Constant,
            SymbolKind::Variable => wit::SymbolKind::Variable,
            SymbolKind::Field => wit::SymbolKind::Field,
            SymbolKind::Macro => wit::SymbolKind::Macro,
            SymbolKind::Heading => wit::SymbolKind::Heading,
            SymbolKind::Other => wit::SymbolKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_one_line_of_bounded_length() {
        assert_eq!(clean_name("a\rb\r\n c\n\td\u{0}e\u{7f}"), "a b c de");
        let long = clean_name(&"é word".repeat(200));
        assert!(
            long.len() <= MAX_NAME_BYTES && long.starts_with("é word"),
            "{long}"
        );
        assert_eq!(clean_name(&"x".repeat(600)).len(), MAX_NAME_BYTES);
        // The checks Kiln makes: such names are refused.
        let symbol = |name: &str| Symbol {
            kind: SymbolKind::Heading,
            name: name.to_owned(),
            start: 0,
            end: 1,
            parent: None,
        };
        let parsed = |name: &str| Parsed {
            language: "text".into(),
            symbols: vec![symbol(name)],
            chunks: vec![Chunk {
                start: 0,
                end: 1,
                symbol: Some(0),
            }],
        };
        assert!(parsed("a b").check("x", 64).is_ok());
        assert!(parsed("a\rb").check("x", 64).is_err());
        assert!(parsed(&"x".repeat(513)).check("x", 64).is_err());
    }
}
