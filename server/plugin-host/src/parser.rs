//! The `language-parser-plugin` world, and the checks every parser's answer passes —
//! a plugin's or the built-in one's — before Kiln trusts its offsets.

use kiln_plugin_sdk::{parser as sdk, text::TextIndex};
use kiln_types::{CodeChunk, CodeSymbol, ParsedFile, SymbolKind, TextSpan};
use wasmtime::component::HasSelf;

use crate::{
    Origin, PluginEngine, PluginError, PluginLimits, PluginStats,
    sandbox::{PluginState, Sandboxed},
};

use crate::wit::v0_1_0::parser::{
    LanguageParserPlugin as World, LanguageParserPluginPre,
    exports::kiln::plugin::language_parser as wit,
};

/// Most symbols one file may report; beyond this the answer is refused.
const MAX_SYMBOLS: usize = 200_000;
const MAX_NAME_BYTES: usize = 512;

/// A loaded language-parser plugin, ready to be called from any thread.
pub struct LanguageParserPlugin {
    sandbox: Sandboxed<LanguageParserPluginPre<PluginState>>,
    info: sdk::ParserInfo,
}

impl LanguageParserPlugin {
    /// Compiles, links and asks the plugin what it parses; anything but a working
    /// language parser of a supported API version is refused here.
    pub fn load(
        engine: &PluginEngine,
        id: &str,
        wasm: &[u8],
        limits: PluginLimits,
    ) -> Result<Self, PluginError> {
        let sandbox = Sandboxed::load(
            engine,
            id,
            wasm,
            limits,
            |linker| World::add_to_linker::<_, HasSelf<_>>(linker, |state| state),
            LanguageParserPluginPre::new,
        )?;
        let info = sandbox.call(
            |pre, store| {
                let instance = pre.instantiate(&mut *store)?;
                instance.kiln_plugin_language_parser().call_info(store)
            },
            Ok,
        )?;
        let info = sdk::ParserInfo {
            languages: normalized(info.languages),
            extensions: normalized(info.extensions),
            filenames: info.filenames,
        };
        Ok(Self { sandbox, info })
    }

    pub fn id(&self) -> &str {
        &self.sandbox.id
    }

    pub fn origin(&self) -> Origin {
        self.sandbox.origin()
    }

    pub fn stats(&self) -> PluginStats {
        self.sandbox.stats()
    }

    /// What the plugin said it parses when it was loaded.
    pub fn info(&self) -> &sdk::ParserInfo {
        &self.info
    }

    /// Parses one file. Blocking: call it from a blocking thread.
    pub fn parse(
        &self,
        path: &str,
        source: &str,
        max_chunk_bytes: u32,
    ) -> Result<ParsedFile, PluginError> {
        if source.len() > self.sandbox.limits.max_input_bytes {
            return Err(PluginError::InputTooLarge {
                size: source.len(),
                limit: self.sandbox.limits.max_input_bytes,
            });
        }
        let request = wit::ParseRequest {
            path: path.to_owned(),
            source: source.to_owned(),
            max_chunk_bytes,
        };
        self.sandbox.call(
            |pre, store| {
                let instance = pre.instantiate(&mut *store)?;
                instance
                    .kiln_plugin_language_parser()
                    .call_parse(store, &request)
            },
            |answer| match answer {
                Ok(parsed) => {
                    let size = parsed.language.len()
                        + parsed
                            .symbols
                            .iter()
                            .map(|s| s.name.len() + 24)
                            .sum::<usize>()
                        + parsed.chunks.len() * 16;
                    if size > self.sandbox.limits.max_output_bytes {
                        return Err(PluginError::InvalidOutput {
                            plugin: self.sandbox.id.clone(),
                            reason: format!(
                                "{size} bytes of output exceed the limit of {}",
                                self.sandbox.limits.max_output_bytes
                            ),
                        });
                    }
                    check(
                        &self.sandbox.id,
                        source,
                        &from_wit(&parsed),
                        max_chunk_bytes,
                    )
                }
                Err(message) => Err(PluginError::Reported {
                    plugin: self.sandbox.id.clone(),
                    message: message.chars().take(1000).collect(),
                }),
            },
        )
    }
}

fn normalized(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .map(|name| name.trim_start_matches('.').to_ascii_lowercase())
        .collect()
}

fn from_wit(parsed: &wit::Parsed) -> sdk::Parsed {
    let at = |offset: u32| usize::try_from(offset).unwrap_or(usize::MAX);
    sdk::Parsed {
        language: parsed.language.clone(),
        symbols: parsed
            .symbols
            .iter()
            .map(|symbol| sdk::Symbol {
                kind: kind_from_wit(symbol.kind),
                name: symbol.name.clone(),
                start: at(symbol.span.start),
                end: at(symbol.span.end),
                parent: symbol.parent.map(at),
            })
            .collect(),
        chunks: parsed
            .chunks
            .iter()
            .map(|chunk| sdk::Chunk {
                start: at(chunk.span.start),
                end: at(chunk.span.end),
                symbol: chunk.symbol.map(at),
            })
            .collect(),
    }
}

/// Validates a parser's answer for `source` and adds line numbers. Refused: chunks
/// that leave gaps, overlap, exceed the budget (except a single over-long token) or
/// miss the end; spans off character boundaries or past the end; parents that do not
/// come before their children; absurd names or counts.
pub fn check(
    plugin: &str,
    source: &str,
    parsed: &sdk::Parsed,
    max_chunk_bytes: u32,
) -> Result<ParsedFile, PluginError> {
    let invalid = |reason: String| PluginError::InvalidOutput {
        plugin: plugin.to_owned(),
        reason,
    };
    let language = parsed.language.as_str();
    let language_ok = (1..=64).contains(&language.len())
        && language
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+#._-".contains(c));
    if !language_ok {
        return Err(invalid(format!(
            "language {language:?} is not a lower-case name"
        )));
    }
    if parsed.symbols.len() > MAX_SYMBOLS {
        return Err(invalid(format!(
            "{} symbols is more than {MAX_SYMBOLS}",
            parsed.symbols.len()
        )));
    }
    if let Some(index) = parsed.symbols.iter().position(|symbol| {
        symbol.name.len() > MAX_NAME_BYTES || symbol.name.contains(char::is_control)
    }) {
        return Err(invalid(format!(
            "symbol {index} has an over-long or control-character name"
        )));
    }
    let budget = usize::try_from(max_chunk_bytes).unwrap_or(usize::MAX);
    parsed.check(source, budget).map_err(invalid)?;
    let lines = TextIndex::new(source);
    let symbols = parsed
        .symbols
        .iter()
        .map(|symbol| CodeSymbol {
            kind: kind_to_api(symbol.kind),
            name: symbol.name.clone(),
            span: span_of(&lines, symbol.start, symbol.end),
            parent: symbol.parent.map(index_u32),
        })
        .collect();
    let chunks = parsed
        .chunks
        .iter()
        .map(|chunk| CodeChunk {
            span: span_of(&lines, chunk.start, chunk.end),
            symbol: chunk.symbol.map(index_u32),
        })
        .collect();
    Ok(ParsedFile {
        language: language.to_owned(),
        parser: plugin.to_owned(),
        symbols,
        chunks,
    })
}

fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// The span `start..end` with its 1-based lines: a span ending with its newline ends
/// on that line.
pub fn span_of(lines: &TextIndex, start: usize, end: usize) -> TextSpan {
    TextSpan {
        start_byte: index_u32(start),
        end_byte: index_u32(end),
        start_line: index_u32(lines.line_of(start)),
        end_line: index_u32(lines.line_of(end.saturating_sub(1).max(start))),
    }
}

fn kind_from_wit(kind: wit::SymbolKind) -> sdk::SymbolKind {
    use sdk::SymbolKind as K;
    match kind {
        wit::SymbolKind::Module => K::Module,
        wit::SymbolKind::Function => K::Function,
        wit::SymbolKind::Method => K::Method,
        wit::SymbolKind::Class => K::Class,
        wit::SymbolKind::Struct => K::Struct,
        wit::SymbolKind::Enum => K::Enum,
        wit::SymbolKind::Interface => K::Interface,
        wit::SymbolKind::Trait => K::Trait,
        wit::SymbolKind::Impl => K::Impl,
        wit::SymbolKind::TypeAlias => K::TypeAlias,
        wit::SymbolKind::Constant => K::Constant,
        wit::SymbolKind::Variable => K::Variable,
        wit::SymbolKind::Field => K::Field,
        wit::SymbolKind::Macro => K::Macro,
        wit::SymbolKind::Heading => K::Heading,
        wit::SymbolKind::Other => K::Other,
    }
}

fn kind_to_api(kind: sdk::SymbolKind) -> SymbolKind {
    use sdk::SymbolKind as K;
    match kind {
        K::Module => SymbolKind::Module,
        K::Function => SymbolKind::Function,
        K::Method => SymbolKind::Method,
        K::Class => SymbolKind::Class,
        K::Struct => SymbolKind::Struct,
        K::Enum => SymbolKind::Enum,
        K::Interface => SymbolKind::Interface,
        K::Trait => SymbolKind::Trait,
        K::Impl => SymbolKind::Impl,
        K::TypeAlias => SymbolKind::TypeAlias,
        K::Constant => SymbolKind::Constant,
        K::Variable => SymbolKind::Variable,
        K::Field => SymbolKind::Field,
        K::Macro => SymbolKind::Macro,
        K::Heading => SymbolKind::Heading,
        K::Other => SymbolKind::Other,
    }
}
