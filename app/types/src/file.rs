//! Code documents: files in a project, their versions, indexing and search.

use serde::{Deserialize, Serialize};

use crate::CodeSymbol;

/// Where a file stands in the indexing queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IndexState {
    /// Waiting for (or being retried by) the indexer.
    Queued,
    /// Chunks of the current version are searchable.
    Indexed,
    /// Gave up after retries; `index_error` says why.
    Failed,
    /// Never indexed (binary).
    Skipped,
}

impl IndexState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Indexed => "indexed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Queued, Self::Indexed, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|state| state.as_str() == value)
    }
}

/// Whether a file's outline (its symbols) comes from a language parser, and if not,
/// why. Every text file gets search chunks whatever this says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutlineState {
    /// Not indexed yet (or binary).
    #[default]
    Pending,
    /// A language parser read the file: symbols are its outline.
    Parsed,
    /// No parser is installed for this kind of file (plain text, configuration…).
    None,
    /// The parser could not read this file (`outline_error` says where); a file
    /// problem, not a parser one: other files are unaffected.
    Unparsable,
    /// The parser was unavailable (failing, in quarantine, or busy); the file is
    /// searchable, and is parsed again when the parser is back.
    Fallback,
}

impl OutlineState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Parsed => "parsed",
            Self::None => "none",
            Self::Unparsable => "unparsable",
            Self::Fallback => "fallback",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Parsed,
            Self::None,
            Self::Unparsable,
            Self::Fallback,
        ]
        .into_iter()
        .find(|state| state.as_str() == value)
    }

    /// What the files page says about a file without a parser's outline.
    pub fn explain(self) -> Option<&'static str> {
        match self {
            Self::Unparsable => Some("the parser could not read this file"),
            Self::Fallback => Some("the parser was unavailable; it will be parsed again"),
            Self::Pending | Self::Parsed | Self::None => None,
        }
    }
}

/// A file in a project, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileSummary {
    pub id: String,
    pub project_id: String,
    /// Relative, `/`-separated.
    pub path: String,
    pub size: u64,
    pub lines: u64,
    pub language: String,
    pub binary: bool,
    /// Starts at 1; every change adds 1.
    pub version: u64,
    /// Hex sha256 of the content.
    pub sha256: String,
    pub index_status: IndexState,
    pub index_error: Option<String>,
    /// Where the file's symbols come from.
    #[serde(default)]
    pub outline: OutlineState,
    /// Why a parser gave no outline (`unparsable`, `fallback`).
    #[serde(default)]
    pub outline_error: Option<String>,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// Set while the file is deleted (restorable).
    pub deleted_at: Option<String>,
}

/// A file with its content and outline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileDetail {
    #[serde(flatten)]
    pub file: FileSummary,
    /// The text; `null` for binary files.
    pub content: Option<String>,
    /// How the bytes were read when they were not plain UTF-8.
    pub note: Option<String>,
    /// The symbols the indexer found (empty until indexed).
    pub symbols: Vec<CodeSymbol>,
}

/// What an upload did with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UploadOutcome {
    /// A new path.
    Created,
    /// Same path, new content: a new version.
    Updated,
    /// Same path, same content: nothing written.
    Duplicate,
    /// Not stored (e.g. binary files when the installation refuses them).
    Refused,
    /// Not stored because nobody means to store it: operating-system metadata (macOS
    /// `._*` twins, `.DS_Store`, `__MACOSX/`; Windows `Thumbs.db`, `desktop.ini`; trash
    /// folders); `note` says what it was.
    Skipped,
}

/// One file of an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadedFile {
    pub path: String,
    pub outcome: UploadOutcome,
    pub file_id: Option<String>,
    pub version: Option<u64>,
    pub sha256: String,
    pub size: u64,
    pub binary: bool,
    /// How the bytes were read, or why the file was refused.
    pub note: Option<String>,
}

/// The answer to an upload or import: per file what happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadReport {
    pub files: Vec<UploadedFile>,
    pub created: u64,
    pub updated: u64,
    pub duplicate: u64,
    pub refused: u64,
    /// Operating-system metadata set aside (see [`UploadOutcome::Skipped`]).
    #[serde(default)]
    pub skipped: u64,
}

impl UploadReport {
    pub fn push(&mut self, file: UploadedFile) {
        match file.outcome {
            UploadOutcome::Created => self.created += 1,
            UploadOutcome::Updated => self.updated += 1,
            UploadOutcome::Duplicate => self.duplicate += 1,
            UploadOutcome::Refused => self.refused += 1,
            UploadOutcome::Skipped => self.skipped += 1,
        }
        self.files.push(file);
    }
}

/// Body of `PUT /api/files/{id}`: the version the change was made on, and the new
/// content and/or path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FileEdit {
    pub version: u64,
    #[serde(default)]
    pub content: Option<String>,
    /// Rename or move inside the project.
    #[serde(default)]
    pub path: Option<String>,
}

/// Body of `POST /api/files/{id}/restore`: a version to bring back as a new version;
/// without one, undeletes the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    #[serde(default)]
    pub version: Option<u64>,
}

/// One version of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileVersion {
    pub version: u64,
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub lines: u64,
    pub binary: bool,
    pub author_id: Option<String>,
    /// When this version was written, RFC 3339.
    pub created_at: String,
    /// The file's current version.
    pub current: bool,
    /// Only when one version is asked for; `null` for binary files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// `?from=&to=` of the diff route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DiffQuery {
    pub from: u64,
    /// Default: the current version.
    #[serde(default)]
    pub to: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiffLineKind {
    Context,
    Added,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffLine {
    pub kind: DiffLineKind,
    /// Line number in the old version (context and removed lines).
    pub old_line: Option<u64>,
    /// Line number in the new version (context and added lines).
    pub new_line: Option<u64>,
    pub text: String,
}

/// Line differences between two versions, with three lines of context per hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileDiff {
    pub from: u64,
    pub to: u64,
    pub added: u64,
    pub removed: u64,
    pub hunks: Vec<Vec<DiffLine>>,
    /// The same as a unified diff.
    pub unified: String,
}

/// `GET /api/projects/{id}/search`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SearchQuery {
    /// Words or identifiers; `parseConfig`, `parse_config` and `parse config` match
    /// the same code.
    pub q: String,
    #[serde(default)]
    pub language: Option<String>,
    /// Glob over paths, e.g. `src/**/*.rs`.
    #[serde(default)]
    pub path: Option<String>,
    /// 1–50, default 20.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 50))]
    pub limit: Option<u32>,
}

/// One matching piece of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub file_id: String,
    pub path: String,
    pub language: String,
    pub start_line: u64,
    pub end_line: u64,
    /// The file's version the chunk was cut from.
    #[serde(default)]
    pub version: u64,
    pub score: f64,
    /// The chunk's text.
    pub text: String,
    /// Byte ranges of `text` that matched the query, `[start, end)`.
    pub highlights: Vec<[u32; 2]>,
    /// Symbols defined in the chunk.
    pub symbols: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    pub query: String,
    pub hits: Vec<SearchHit>,
}

/// A file the indexer gave up on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexFailure {
    pub file_id: String,
    pub path: String,
    pub error: String,
}

/// `GET /api/projects/{id}/index-status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexStatus {
    pub queued: u64,
    pub indexed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub failures: Vec<IndexFailure>,
    /// Indexed files the parser could not read (they have chunks, no symbols).
    #[serde(default)]
    pub unparsable: u64,
    /// Indexed files waiting for their parser to be back.
    #[serde(default)]
    pub fallback: u64,
    /// The first of those files by path, with the reason.
    #[serde(default)]
    pub without_outline: Vec<IndexFailure>,
}

impl IndexStatus {
    /// Nothing left for the indexer.
    pub fn is_idle(&self) -> bool {
        self.queued == 0
    }
}
