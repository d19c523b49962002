use serde::{Deserialize, Serialize};

/// Largest Markdown document the snippet extractor accepts.
pub const MARKDOWN_MAX_BYTES: usize = 256 * 1024;

/// Body of `POST /api/snippets/extract`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExtractSnippetsRequest {
    pub markdown: String,
}

/// A fenced code block found in Markdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snippet {
    /// First word of the info string (`rust` for "```rust title=a.rs"); `null` without one.
    pub language: Option<String>,
    /// The whole info string, trimmed.
    pub info: String,
    /// The code between the fences.
    pub code: String,
    /// 1-based line of the opening fence.
    pub start_line: u32,
    /// 1-based line of the closing fence (the last line when the fence is unterminated).
    pub end_line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExtractSnippetsResponse {
    pub snippets: Vec<Snippet>,
}
