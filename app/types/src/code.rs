//! What a language parser found in a source file: its symbols and its search chunks.

use serde::{Deserialize, Serialize};

/// What a symbol is (the `symbol-kind` of `wit/parser.wit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
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

/// A range of a file: bytes half-open (`start_byte..end_byte`), lines 1-based and
/// inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextSpan {
    pub start_byte: u32,
    pub end_byte: u32,
    pub start_line: u32,
    pub end_line: u32,
}

/// One named definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeSymbol {
    pub kind: SymbolKind,
    pub name: String,
    pub span: TextSpan,
    /// Index of the enclosing symbol in the same list.
    pub parent: Option<u32>,
}

/// One piece of a file for search and embedding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeChunk {
    pub span: TextSpan,
    /// Index of the innermost symbol the chunk belongs to.
    pub symbol: Option<u32>,
}

/// A parsed file: chunks cover it exactly, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParsedFile {
    pub language: String,
    /// The plugin that parsed it, or `built-in`.
    pub parser: String,
    pub symbols: Vec<CodeSymbol>,
    pub chunks: Vec<CodeChunk>,
}
