//! Code documents: files in a project, uploaded, versioned, indexed and searched.
//!
//! Every change is one database transaction (see the `fn::put_file` and
//! `fn::write_version` functions of migration 0005) that also keeps the project's
//! counters, writes the history row, drops stale chunks and sets `needs_indexing`;
//! the [`Indexer`] picks the flag up in the background.

mod archive;
mod content;
mod diff;
mod edit;
mod indexer;
mod path;
mod search;
mod upload;
mod words;

use std::sync::Arc;

use kiln_types::{
    ApiError, CodeSymbol, FileDetail, FileSummary, IndexFailure, IndexState, IndexStatus,
    SymbolKind, TextSpan,
};
use surrealdb::types::SurrealValue;
use tokio::sync::{Notify, watch};

pub use archive::is_archive;
pub use content::{Content, sniff};
pub use indexer::Indexer;
pub use path::{MAX_PATH_BYTES, MAX_SEGMENT_BYTES, normalize_path};
pub use search::{SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, estimated_tokens};
pub use upload::IncomingFile;
pub use words::code_words;

use crate::{
    ServiceError,
    access::require_project_owner,
    auth::Principal,
    db::Db,
    events::{EventDispatcher, ProjectRef},
    parsing::ParserService,
};

/// Failed files listed by the index status.
const MAX_LISTED_FAILURES: usize = 100;

/// Display times: microseconds, UTC.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Limits and policies of code documents, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSettings {
    /// Largest single file, also inside an archive (`KILN_UPLOAD_FILE_LIMIT`).
    pub max_file_bytes: u64,
    /// Largest upload request, and the most an archive may expand to
    /// (`KILN_UPLOAD_BODY_LIMIT`).
    pub max_request_bytes: u64,
    /// Store binary files (never indexed) or refuse them (`KILN_BINARY_FILES`).
    pub store_binary: bool,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            max_file_bytes: 10 << 20,
            max_request_bytes: 50 << 20,
            store_binary: true,
        }
    }
}

impl FileSettings {
    /// 413 for a file over the per-file limit.
    pub fn file_too_large(&self, name: &str) -> ApiError {
        let limit = self.max_file_bytes;
        ApiError::too_large(format!("{name:?} is larger than {limit} bytes"), limit)
    }

    /// 413 for an upload over the per-request limit.
    pub fn upload_too_large(&self) -> ApiError {
        let limit = self.max_request_bytes;
        ApiError::too_large(format!("the upload holds more than {limit} bytes"), limit)
    }
}

/// The columns of a [`FileSummary`], flattened, with ids and times as strings.
fn summary_fields() -> String {
    format!(
        "record::id(id) AS id, record::id(project) AS project_id, path, size, lines, language, \
         binary, version, sha256, index_status, index_error, \
         time::format(updated_at, '{TIME_FORMAT}') AS updated_at, \
         IF deleted_at != NONE THEN time::format(deleted_at, '{TIME_FORMAT}') ELSE NONE END AS deleted_at"
    )
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct SummaryRow {
    id: String,
    project_id: String,
    path: String,
    size: i64,
    lines: i64,
    language: String,
    binary: bool,
    version: i64,
    sha256: String,
    index_status: String,
    index_error: Option<String>,
    updated_at: String,
    deleted_at: Option<String>,
}

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl From<SummaryRow> for FileSummary {
    fn from(row: SummaryRow) -> Self {
        Self {
            id: row.id,
            project_id: row.project_id,
            path: row.path,
            size: unsigned(row.size),
            lines: unsigned(row.lines),
            language: row.language,
            binary: row.binary,
            version: unsigned(row.version),
            sha256: row.sha256,
            index_status: IndexState::parse(&row.index_status).unwrap_or(IndexState::Queued),
            index_error: row.index_error,
            updated_at: row.updated_at,
            deleted_at: row.deleted_at,
        }
    }
}

/// One symbol as stored on its file.
#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct SymbolRow {
    kind: String,
    name: String,
    start_byte: i64,
    end_byte: i64,
    start_line: i64,
    end_line: i64,
    parent: Option<i64>,
}

fn symbol_kind(name: &str) -> SymbolKind {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).unwrap_or(SymbolKind::Other)
}

fn symbol_kind_name(kind: SymbolKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other".into())
}

fn small(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

impl From<SymbolRow> for CodeSymbol {
    fn from(row: SymbolRow) -> Self {
        Self {
            kind: symbol_kind(&row.kind),
            name: row.name,
            span: TextSpan {
                start_byte: small(row.start_byte),
                end_byte: small(row.end_byte),
                start_line: small(row.start_line),
                end_line: small(row.end_line),
            },
            parent: row.parent.map(small),
        }
    }
}

impl From<&CodeSymbol> for SymbolRow {
    fn from(symbol: &CodeSymbol) -> Self {
        Self {
            kind: symbol_kind_name(symbol.kind),
            name: symbol.name.clone(),
            start_byte: symbol.span.start_byte.into(),
            end_byte: symbol.span.end_byte.into(),
            start_line: symbol.span.start_line.into(),
            end_line: symbol.span.end_line.into(),
            parent: symbol.parent.map(i64::from),
        }
    }
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct DetailRow {
    content: String,
    note: Option<String>,
    symbols: Vec<SymbolRow>,
}

/// A file the caller may touch, and its project.
#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct FileAccess {
    project_id: String,
    owned: bool,
}

#[derive(Clone)]
pub struct FileService {
    db: Db,
    events: EventDispatcher,
    parsers: ParserService,
    settings: FileSettings,
    /// Rung after every change that queues indexing work.
    wake: Arc<Notify>,
    /// Counts the indexer's finished batches, so callers can wait for progress.
    progress: watch::Sender<u64>,
}

impl FileService {
    pub fn new(
        db: Db,
        events: EventDispatcher,
        parsers: ParserService,
        settings: FileSettings,
    ) -> Self {
        Self {
            db,
            events,
            parsers,
            settings,
            wake: Arc::new(Notify::new()),
            progress: watch::Sender::new(0),
        }
    }

    pub fn settings(&self) -> FileSettings {
        self.settings
    }

    /// The background indexer, on its own database session.
    pub async fn indexer(&self) -> Result<Indexer, ServiceError> {
        let db = crate::db::session(&self.db).await?;
        Ok(Indexer::new(
            db,
            self.parsers.clone(),
            self.wake.clone(),
            self.progress.clone(),
        ))
    }

    /// Changes whenever the indexer finished some work.
    pub fn progress(&self) -> watch::Receiver<u64> {
        self.progress.subscribe()
    }

    /// A project's live files (and deleted ones if asked), by path.
    pub async fn list(
        &self,
        principal: &Principal,
        project_id: &str,
        include_deleted: bool,
    ) -> Result<Vec<FileSummary>, ServiceError> {
        require_project_owner(&self.db, principal, project_id).await?;
        let deleted = if include_deleted {
            ""
        } else {
            "AND deleted_at = NONE"
        };
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM file WHERE project = type::record('project', $project) {deleted} ORDER BY path",
                summary_fields()
            ))
            .bind(("project", project_id.to_owned()))
            .await?
            .check()?;
        let rows: Vec<SummaryRow> = response.take(0)?;
        Ok(rows.into_iter().map(FileSummary::from).collect())
    }

    /// One file with its content and outline.
    pub async fn get(
        &self,
        principal: &Principal,
        file_id: &str,
    ) -> Result<FileDetail, ServiceError> {
        self.authorize(principal, file_id).await?;
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM ONLY type::record('file', $id);
                 SELECT content, symbols,
                     (SELECT VALUE note FROM ONLY type::record('file', $id)) AS note
                 FROM ONLY type::record('file_content', $id);",
                summary_fields()
            ))
            .bind(("id", file_id.to_owned()))
            .await?
            .check()?;
        let summary: Option<SummaryRow> = response.take(0)?;
        let detail: Option<DetailRow> = response.take(1)?;
        let (Some(summary), Some(detail)) = (summary, detail) else {
            return Err(not_found(file_id));
        };
        let file = FileSummary::from(summary);
        Ok(FileDetail {
            content: (!file.binary).then_some(detail.content),
            note: detail.note,
            symbols: detail.symbols.into_iter().map(CodeSymbol::from).collect(),
            file,
        })
    }

    /// How far indexing is in a project, and which files failed and why.
    pub async fn index_status(
        &self,
        principal: &Principal,
        project_id: &str,
    ) -> Result<IndexStatus, ServiceError> {
        require_project_owner(&self.db, principal, project_id).await?;
        #[derive(SurrealValue)]
        #[surreal(crate = "surrealdb::types")]
        struct Count {
            index_status: String,
            files: i64,
        }
        #[derive(SurrealValue)]
        #[surreal(crate = "surrealdb::types")]
        struct Failure {
            file_id: String,
            path: String,
            error: String,
        }
        let mut response = self
            .db
            .query(format!(
                "SELECT index_status, count() AS files FROM file
                     WHERE project = type::record('project', $project) AND deleted_at = NONE
                     GROUP BY index_status;
                 SELECT record::id(id) AS file_id, path, index_error ?? '' AS error FROM file
                     WHERE project = type::record('project', $project) AND deleted_at = NONE
                         AND index_status = 'failed'
                     ORDER BY path LIMIT {MAX_LISTED_FAILURES};"
            ))
            .bind(("project", project_id.to_owned()))
            .await?
            .check()?;
        let counts: Vec<Count> = response.take(0)?;
        let failures: Vec<Failure> = response.take(1)?;
        let mut status = IndexStatus::default();
        for count in counts {
            let files = unsigned(count.files);
            match IndexState::parse(&count.index_status) {
                Some(IndexState::Queued) => status.queued += files,
                Some(IndexState::Indexed) => status.indexed += files,
                Some(IndexState::Failed) => status.failed += files,
                Some(IndexState::Skipped) | None => status.skipped += files,
            }
        }
        status.failures = failures
            .into_iter()
            .map(|f| IndexFailure {
                file_id: f.file_id,
                path: f.path,
                error: f.error,
            })
            .collect();
        Ok(status)
    }

    /// The summary of one file.
    async fn summary(&self, file_id: &str) -> Result<FileSummary, ServiceError> {
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM ONLY type::record('file', $id)",
                summary_fields()
            ))
            .bind(("id", file_id.to_owned()))
            .await?
            .check()?;
        let row: Option<SummaryRow> = response.take(0)?;
        row.map(FileSummary::from).ok_or_else(|| not_found(file_id))
    }

    /// A file is its project's: unknown → 404, someone else's → 403. Returns the
    /// project's id.
    pub async fn authorize(
        &self,
        principal: &Principal,
        file_id: &str,
    ) -> Result<String, ServiceError> {
        let mut response = self
            .db
            .query(
                "SELECT record::id(project) AS project_id, project.owner = type::record('user', $user) AS owned
                 FROM ONLY type::record('file', $id)",
            )
            .bind(("id", file_id.to_owned()))
            .bind(("user", principal.user_id.clone()))
            .await?
            .check()?;
        let access: Option<FileAccess> = response.take(0)?;
        match access {
            None => Err(not_found(file_id)),
            Some(access) if access.owned => Ok(access.project_id),
            Some(_) => {
                tracing::info!(user = %principal.user_id, file = file_id, "file access refused");
                Err(ServiceError::Forbidden(
                    "this file belongs to another account's project".into(),
                ))
            }
        }
    }

    /// The project as events describe it, after checking the caller may change it:
    /// archived projects are read-only.
    async fn writable_project(
        &self,
        principal: &Principal,
        project_id: &str,
    ) -> Result<ProjectRef, ServiceError> {
        require_project_owner(&self.db, principal, project_id).await?;
        #[derive(SurrealValue)]
        #[surreal(crate = "surrealdb::types")]
        struct Row {
            name: String,
            owner_id: String,
            status: String,
        }
        let mut response = self
            .db
            .query(
                "SELECT name, record::id(owner) AS owner_id, status
                 FROM ONLY type::record('project', $id)",
            )
            .bind(("id", project_id.to_owned()))
            .await?
            .check()?;
        let row: Option<Row> = response.take(0)?;
        let row = row
            .ok_or_else(|| ServiceError::NotFound(format!("no project with id {project_id:?}")))?;
        if row.status == "archived" {
            return Err(ServiceError::Conflict(
                "the project is archived: restore it to change its files".into(),
            ));
        }
        Ok(ProjectRef {
            id: project_id.to_owned(),
            name: row.name,
            owner_id: row.owner_id,
        })
    }
}

fn not_found(file_id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no file with id {file_id:?}"))
}

/// What a file's bytes become in the database.
#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct NewContent {
    path: String,
    sha256: String,
    size: i64,
    lines: i64,
    language: String,
    binary: bool,
    content: String,
    data: Option<surrealdb::types::Bytes>,
    note: Option<String>,
}

impl NewContent {
    /// Sniffs and hashes `bytes` for the file at `path`.
    fn read(path: String, bytes: Vec<u8>) -> Self {
        let sha256 = kiln_plugin_host::sha256_hex(&bytes);
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let language = kiln_parser_generic::GenericParser::language(&path).to_owned();
        match sniff(&bytes) {
            Content::Text { text, note } => Self {
                lines: line_count(&text),
                path,
                sha256,
                size,
                language,
                binary: false,
                content: text,
                data: None,
                note,
            },
            Content::Binary => Self {
                path,
                sha256,
                size,
                lines: 0,
                language: "binary".into(),
                binary: true,
                content: String::new(),
                data: Some(bytes.into()),
                note: None,
            },
        }
    }
}

/// Lines as editors count them: a final line without a newline counts.
fn line_count(text: &str) -> i64 {
    let newlines = text.bytes().filter(|&b| b == b'\n').count();
    let last = usize::from(!text.is_empty() && !text.ends_with('\n'));
    i64::try_from(newlines + last).unwrap_or(i64::MAX)
}
