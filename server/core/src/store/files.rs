//! The code-document tables — `file`, `file_content`, `file_version`, `chunk` — and
//! every statement on them: listings, history, the write transactions (which call the
//! functions in `functions.surql`), full-text search, and the indexing queue with its
//! leases.

use std::time::Duration;

use kiln_types::{
    CodeSymbol, FileSummary, FileVersion, IndexState, OutlineState, SymbolKind, TextSpan,
};
use surrealdb::types::{RecordId, SurrealValue};

use super::{DbError, TIME_FORMAT, Transaction, codes};
use crate::db::Db;

/// The columns of a [`FileSummary`], flattened, with ids and times as strings.
pub(crate) fn summary_fields() -> String {
    format!(
        "record::id(id) AS id, record::id(project) AS project_id, path, size, lines, language, \
         binary, version, sha256, index_status, index_error, outline, outline_error, \
         time::format(updated_at, '{TIME_FORMAT}') AS updated_at, \
         IF deleted_at != NONE THEN time::format(deleted_at, '{TIME_FORMAT}') ELSE NONE END AS deleted_at"
    )
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct SummaryRow {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) path: String,
    pub(crate) size: i64,
    pub(crate) lines: i64,
    pub(crate) language: String,
    pub(crate) binary: bool,
    pub(crate) version: i64,
    pub(crate) sha256: String,
    pub(crate) index_status: String,
    pub(crate) index_error: Option<String>,
    pub(crate) outline: String,
    pub(crate) outline_error: Option<String>,
    pub(crate) updated_at: String,
    pub(crate) deleted_at: Option<String>,
}

pub(crate) fn unsigned(value: i64) -> u64 {
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
            outline: OutlineState::parse(&row.outline).unwrap_or_default(),
            outline_error: row.outline_error,
            updated_at: row.updated_at,
            deleted_at: row.deleted_at,
        }
    }
}

/// One symbol as stored on its file.
#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct SymbolRow {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) start_byte: i64,
    pub(crate) end_byte: i64,
    pub(crate) start_line: i64,
    pub(crate) end_line: i64,
    pub(crate) parent: Option<i64>,
}

pub(crate) fn symbol_kind(name: &str) -> SymbolKind {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).unwrap_or(SymbolKind::Other)
}

pub(crate) fn symbol_kind_name(kind: SymbolKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other".into())
}

pub(crate) fn small(value: i64) -> u32 {
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
pub(crate) struct DetailRow {
    pub(crate) content: String,
    pub(crate) note: Option<String>,
    pub(crate) symbols: Vec<SymbolRow>,
}

/// The UNIQUE index that keeps one live (not deleted) file per path in a project.
pub(crate) const PATH_INDEX: &str = "file_project_live_path";

/// What a file's bytes become in the database.
#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct NewContent {
    pub(crate) path: String,
    pub(crate) sha256: String,
    pub(crate) size: i64,
    pub(crate) lines: i64,
    pub(crate) language: String,
    pub(crate) binary: bool,
    pub(crate) content: String,
    pub(crate) data: Option<surrealdb::types::Bytes>,
    pub(crate) note: Option<String>,
}

/// A version's content as stored (the current one on `file`, older ones on
/// `file_version`).
#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct StoredVersion {
    pub(crate) version: i64,
    pub(crate) path: String,
    pub(crate) sha256: String,
    pub(crate) size: i64,
    pub(crate) lines: i64,
    pub(crate) binary: bool,
    pub(crate) content: String,
    pub(crate) data: Option<surrealdb::types::Bytes>,
    pub(crate) note: Option<String>,
    pub(crate) language: String,
    pub(crate) author_id: Option<String>,
    pub(crate) created_at: String,
    pub(crate) deleted: bool,
}

impl StoredVersion {
    pub(crate) fn as_new(&self, path: String) -> NewContent {
        NewContent {
            path,
            sha256: self.sha256.clone(),
            size: self.size,
            lines: self.lines,
            language: self.language.clone(),
            binary: self.binary,
            content: self.content.clone(),
            data: self.data.clone(),
            note: self.note.clone(),
        }
    }

    pub(crate) fn listing(&self, current: bool, with_content: bool) -> FileVersion {
        FileVersion {
            version: unsigned(self.version),
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            size: unsigned(self.size),
            lines: unsigned(self.lines),
            binary: self.binary,
            author_id: self.author_id.clone(),
            created_at: self.created_at.clone(),
            current,
            content: (with_content && !self.binary).then(|| self.content.clone()),
        }
    }
}

pub(crate) fn version_fields(current: bool) -> String {
    let (author, time, extra) = if current {
        (
            "updated_by",
            "updated_at",
            "note, language, deleted_at != NONE AS deleted",
        )
    } else {
        (
            "author",
            "created_at",
            "NONE AS note, file.language AS language, false AS deleted",
        )
    };
    // The current content lives under the file's key in `file_content`.
    let stored = if current {
        "(SELECT VALUE content FROM ONLY type::record('file_content', record::id($parent.id))) ?? '' AS content, \
         (SELECT VALUE data FROM ONLY type::record('file_content', record::id($parent.id))) AS data"
    } else {
        "content, data"
    };
    format!(
        "version, path, sha256, size, lines, binary, {stored}, {extra}, \
         IF {author} != NONE THEN record::id({author}) ELSE NONE END AS author_id, \
         time::format({time}, '{TIME_FORMAT}') AS created_at"
    )
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct HitRow {
    pub(crate) file_id: String,
    pub(crate) path: String,
    pub(crate) language: String,
    pub(crate) start_line: i64,
    pub(crate) end_line: i64,
    pub(crate) version: i64,
    pub(crate) text: String,
    pub(crate) symbols: String,
    pub(crate) score: f64,
}

#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct Pending {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) version: i64,
    pub(crate) path: String,
    pub(crate) language: String,
    pub(crate) content: String,
    pub(crate) index_attempts: i64,
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct ChunkRow {
    pub(crate) file: RecordId,
    pub(crate) project: RecordId,
    pub(crate) path: String,
    pub(crate) language: String,
    pub(crate) version: i64,
    pub(crate) start_byte: i64,
    pub(crate) end_byte: i64,
    pub(crate) start_line: i64,
    pub(crate) end_line: i64,
    pub(crate) text: String,
    pub(crate) symbols: String,
}

/// A project's files by path (deleted ones too if asked).
pub(crate) async fn list(
    db: &Db,
    project_id: &str,
    include_deleted: bool,
) -> Result<Vec<SummaryRow>, DbError> {
    let deleted = if include_deleted {
        ""
    } else {
        "AND deleted_at = NONE"
    };
    let mut response = db
        .query(format!(
            "SELECT {} FROM file WHERE project = type::record('project', $project) {deleted} ORDER BY path",
            summary_fields()
        ))
        .bind(("project", project_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// `(id, path)` of each live file of a project.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct PathRow {
    pub(crate) id: String,
    pub(crate) path: String,
}

pub(crate) async fn live_paths(db: &Db, project_id: &str) -> Result<Vec<PathRow>, DbError> {
    let mut response = db
        .query(
            "SELECT record::id(id) AS id, path FROM file
             WHERE project = type::record('project', $project) AND deleted_at = NONE",
        )
        .bind(("project", project_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// A file's summary and its stored content and outline.
pub(crate) async fn detail(
    db: &Db,
    file_id: &str,
) -> Result<Option<(SummaryRow, DetailRow)>, DbError> {
    let mut response = db
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
    Ok(summary.zip(detail))
}

pub(crate) async fn summary(db: &Db, file_id: &str) -> Result<Option<SummaryRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM ONLY type::record('file', $id)",
            summary_fields()
        ))
        .bind(("id", file_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// How many of a project's live files are in each index state.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct StateCount {
    pub(crate) index_status: String,
    pub(crate) files: i64,
}

/// A file whose indexing failed for good, and why.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct FailedFile {
    pub(crate) file_id: String,
    pub(crate) path: String,
    pub(crate) error: String,
}

/// How many of a project's indexed files have each outline state.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct OutlineCount {
    pub(crate) outline: String,
    pub(crate) files: i64,
}

/// A project's indexing figures: counts by index state and by outline state, the first
/// `max_listed` failed files by path, and the first `max_listed` indexed files with
/// no outline from their parser (unparsable, fallback) by path, with the reason.
pub(crate) struct IndexFigures {
    pub(crate) states: Vec<StateCount>,
    pub(crate) outlines: Vec<OutlineCount>,
    pub(crate) failed: Vec<FailedFile>,
    pub(crate) without_outline: Vec<FailedFile>,
}

pub(crate) async fn index_status(
    db: &Db,
    project_id: &str,
    max_listed: usize,
) -> Result<IndexFigures, DbError> {
    let mut response = db
        .query(format!(
            "LET $live = SELECT * FROM file
                 WHERE project = type::record('project', $project) AND deleted_at = NONE;
             SELECT index_status, count() AS files FROM $live GROUP BY index_status;
             SELECT outline, count() AS files FROM $live
                 WHERE outline IN ['unparsable', 'fallback'] GROUP BY outline;
             SELECT record::id(id) AS file_id, path, index_error ?? '' AS error FROM $live
                 WHERE index_status = 'failed' ORDER BY path LIMIT {max_listed};
             SELECT record::id(id) AS file_id, path, outline_error ?? '' AS error FROM $live
                 WHERE outline IN ['unparsable', 'fallback'] ORDER BY path LIMIT {max_listed};"
        ))
        .bind(("project", project_id.to_owned()))
        .await?
        .check()?;
    Ok(IndexFigures {
        states: response.take(1)?,
        outlines: response.take(2)?,
        failed: response.take(3)?,
        without_outline: response.take(4)?,
    })
}

/// What `fn::put_file` did with one uploaded file.
#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct PutResult {
    /// `created`, `updated` or `duplicate`.
    pub(crate) outcome: String,
    pub(crate) id: String,
    pub(crate) version: i64,
}

/// `fn::put_file` in a transaction: created, a new version, or a duplicate. Losing a
/// race for a new path to another upload is [`DbError::Unique`] on [`PATH_INDEX`].
pub(crate) async fn put(
    db: &Db,
    project_id: &str,
    user_id: &str,
    new: &NewContent,
) -> Result<Option<PutResult>, DbError> {
    Transaction::new(
        "LET $result = fn::put_file(type::record('project', $project), $new, type::record('user', $user));",
    )
    .bind("project", project_id.to_owned())
    .bind("user", user_id.to_owned())
    .bind("new", new.clone())
    .run(db)
    .await
}

/// `fn::write_version` made on version `seen`: THROWs [`codes::STALE`] when the file
/// moved on, [`codes::NOT_FOUND`] when it is gone; a path in use is
/// [`DbError::Unique`] on [`PATH_INDEX`].
pub(crate) async fn write_version(
    db: &Db,
    file_id: &str,
    seen: i64,
    new: &NewContent,
    user_id: &str,
) -> Result<(), DbError> {
    Transaction::new(
        "LET $result = fn::write_version(type::record('file', $id), $seen, $new, type::record('user', $user));",
    )
    .bind("id", file_id.to_owned())
    .bind("seen", seen)
    .bind("new", new.clone())
    .bind("user", user_id.to_owned())
    .run::<surrealdb::types::Value>(db)
    .await?;
    Ok(())
}

/// Soft-deletes a file and returns its path; THROWs [`codes::ALREADY_DELETED`].
pub(crate) async fn delete(
    db: &Db,
    file_id: &str,
    user_id: &str,
) -> Result<Option<String>, DbError> {
    Transaction::new(format!(
        "LET $file = type::record('file', $id);
         LET $old = SELECT * FROM ONLY $file;
         IF $old.deleted_at != NONE {{ THROW '{already_deleted}'; }};
         UPDATE $file SET deleted_at = time::now(), needs_indexing = false, updated_by = type::record('user', $user) RETURN NONE;
         DELETE chunk WHERE file = $file;
         fn::count_file($old.project, $old, -1);
         LET $result = $old.path;",
        already_deleted = codes::ALREADY_DELETED
    ))
    .bind("id", file_id.to_owned())
    .bind("user", user_id.to_owned())
    .run(db)
    .await
}

/// Brings a deleted file back and queues it for indexing; THROWs
/// [`codes::NOT_DELETED`] when it is not deleted (a concurrent restore won).
pub(crate) async fn undelete(db: &Db, file_id: &str, user_id: &str) -> Result<(), DbError> {
    Transaction::new(format!(
        "LET $file = type::record('file', $id);
         LET $old = SELECT * FROM ONLY $file;
         IF $old.deleted_at = NONE {{ THROW '{not_deleted}'; }};
         UPDATE $file SET deleted_at = NONE, needs_indexing = !binary,
             index_status = IF binary THEN 'skipped' ELSE 'queued' END,
             index_error = NONE, index_attempts = 0, index_retry_at = NONE,
             claimed_by = NONE, claimed_until = NONE,
             updated_by = type::record('user', $user)
         RETURN NONE;
         fn::count_file($old.project, $old, 1);",
        not_deleted = codes::NOT_DELETED
    ))
    .bind("id", file_id.to_owned())
    .bind("user", user_id.to_owned())
    .run::<surrealdb::types::Value>(db)
    .await?;
    Ok(())
}

/// The current version of a file, with its content.
pub(crate) async fn current(db: &Db, file_id: &str) -> Result<Option<StoredVersion>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM ONLY type::record('file', $id)",
            version_fields(true)
        ))
        .bind(("id", file_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// An earlier version of a file, with its content.
pub(crate) async fn version(
    db: &Db,
    file_id: &str,
    version: u64,
) -> Result<Option<StoredVersion>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM ONLY file_version WHERE file = type::record('file', $id) AND version = $version LIMIT 1",
            version_fields(false)
        ))
        .bind(("id", file_id.to_owned()))
        .bind(("version", i64::try_from(version).unwrap_or(i64::MAX)))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// Every earlier version of a file, newest first.
pub(crate) async fn history(db: &Db, file_id: &str) -> Result<Vec<StoredVersion>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM file_version WHERE file = type::record('file', $id) ORDER BY version DESC",
            version_fields(false)
        ))
        .bind(("id", file_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// What the full-text search looks for.
pub(crate) struct ChunkQuery<'a> {
    pub(crate) project_id: &'a str,
    /// The words, space-separated (the `code` analyzer splits them as it split the text).
    pub(crate) words: String,
    pub(crate) language: Option<&'a str>,
    /// Only chunks of these files (ids), when given.
    pub(crate) files: Option<Vec<String>>,
    pub(crate) limit: u32,
    /// How much more a match in the symbol names counts than one in the text.
    pub(crate) symbol_weight: f64,
}

/// The best-scoring chunks (BM25 over text and symbol names), best first.
pub(crate) async fn search(db: &Db, query: ChunkQuery<'_>) -> Result<Vec<HitRow>, DbError> {
    let mut filters = String::new();
    if query.language.is_some() {
        filters.push_str(" AND language = $language");
    }
    if query.files.is_some() {
        filters.push_str(" AND file IN $files");
    }
    let weight = query.symbol_weight;
    let mut response = db
        .query(format!(
            "SELECT record::id(file) AS file_id, path, language, start_line, end_line, version, text, symbols,
                    (search::score(0) ?? 0) + {weight} * (search::score(1) ?? 0) AS score
             FROM chunk
             WHERE project = type::record('project', $project)
                 AND (text @0@ $q OR symbols @1@ $q){filters}
             ORDER BY score DESC LIMIT $limit"
        ))
        .bind(("project", query.project_id.to_owned()))
        .bind(("q", query.words))
        .bind(("language", query.language.map(str::to_owned)))
        .bind((
            "files",
            query.files.map(|ids| {
                ids.into_iter()
                    .map(|id| RecordId::new("file", id))
                    .collect::<Vec<_>>()
            }),
        ))
        .bind(("limit", query.limit))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// Claims up to `batch` files of the indexing queue for `worker` for `lease`: files
/// flagged, due, and not claimed by another worker whose lease still runs. In one
/// transaction: of two workers claiming at once, one conflicts and runs again, and
/// then sees the other's claims.
pub(crate) async fn claim(
    db: &Db,
    worker: &str,
    batch: usize,
    lease: Duration,
) -> Result<Vec<Pending>, DbError> {
    Transaction::new(
        "LET $ids = (SELECT VALUE id FROM file WHERE needs_indexing = true
             AND (index_retry_at = NONE OR index_retry_at <= time::now())
             AND (claimed_until = NONE OR claimed_until <= time::now() OR claimed_by = $worker)
             LIMIT $batch);
         UPDATE $ids SET claimed_by = $worker,
             claimed_until = time::now() + <duration>($lease + 's') RETURN NONE;
         LET $result = (SELECT record::id(id) AS id, record::id(project) AS project_id,
                 version, path, language, index_attempts,
                 (SELECT VALUE content FROM ONLY type::record('file_content', record::id($parent.id))) ?? ''
                     AS content
             FROM $ids);",
    )
    .bind("batch", i64::try_from(batch).unwrap_or(i64::MAX))
    .bind("worker", worker.to_owned())
    .bind("lease", lease.as_secs().to_string())
    .run(db)
    .await
}

/// Gives back the claims of `worker` (every claim with `None`).
pub(crate) async fn release(db: &Db, worker: Option<&str>) -> Result<(), DbError> {
    db.query(
        "UPDATE file SET claimed_by = NONE, claimed_until = NONE
         WHERE claimed_by != NONE AND ($worker = NONE OR claimed_by = $worker)
         RETURN NONE",
    )
    .bind(("worker", worker.map(str::to_owned)))
    .await?
    .check()?;
    Ok(())
}

/// Where a file's outline came from, as [`write_chunks`] records it.
pub(crate) struct OutlineRow {
    /// The parser that gave the chunks (`built-in` when none did).
    pub(crate) parser: String,
    pub(crate) state: OutlineState,
    pub(crate) error: Option<String>,
    /// Parse the file again after this long (the parser was unavailable); the count of
    /// such tries goes in `index_attempts`.
    pub(crate) retry: Option<(Duration, i64)>,
}

/// Replaces a file's chunks and outline and clears its claim, and its flag unless
/// `outline.retry` keeps it queued for later — only if it is still at `version`, not
/// deleted, and not claimed by another worker since this worker's lease ran out (else
/// THROWs [`codes::STALE`]).
pub(crate) async fn write_chunks(
    db: &Db,
    worker: &str,
    file: &Pending,
    chunks: Vec<ChunkRow>,
    symbols: Vec<SymbolRow>,
    outline: OutlineRow,
) -> Result<(), DbError> {
    let (retry_seconds, attempts) = match outline.retry {
        Some((after, attempts)) => (Some(after.as_secs().max(1).to_string()), attempts),
        None => (None, 0),
    };
    Transaction::new(format!(
        "LET $file = type::record('file', $id);
         LET $now = SELECT version, deleted_at, claimed_by FROM ONLY $file;
         IF $now = NONE OR $now.version != $version OR $now.deleted_at != NONE
             OR ($now.claimed_by != NONE AND $now.claimed_by != $worker) {{ THROW '{stale}'; }};
         DELETE chunk WHERE file = $file;
         INSERT INTO chunk $chunks RETURN NONE;
         UPDATE type::record('file_content', $id) SET symbols = $symbols RETURN NONE;
         UPDATE $file SET parser = $parser, outline = $outline, outline_error = $outline_error,
             needs_indexing = $retry != NONE,
             index_status = 'indexed', index_error = NONE, index_attempts = $attempts,
             index_retry_at = IF $retry = NONE THEN NONE
                 ELSE time::now() + <duration>($retry + 's') END,
             claimed_by = NONE, claimed_until = NONE
         RETURN NONE;",
        stale = codes::STALE
    ))
    .bind("id", file.id.clone())
    .bind("worker", worker.to_owned())
    .bind("version", file.version)
    .bind("chunks", chunks)
    .bind("symbols", symbols)
    .bind("parser", outline.parser)
    .bind("outline", outline.state.as_str().to_owned())
    .bind("outline_error", outline.error)
    .bind("retry", retry_seconds)
    .bind("attempts", attempts)
    .run::<surrealdb::types::Value>(db)
    .await?;
    Ok(())
}

/// Records a failed attempt at `version`: retried after `backoff`, or failed for good —
/// unless the file moved on or another worker holds it now.
pub(crate) async fn record_failure(
    db: &Db,
    worker: &str,
    file: &Pending,
    attempts: i64,
    reason: String,
    backoff: Duration,
    gave_up: bool,
) -> Result<(), DbError> {
    db.query(
        "UPDATE type::record('file', $id) SET
             index_attempts = $attempts, index_error = $reason,
             index_retry_at = time::now() + <duration>($backoff + 's'),
             needs_indexing = !$gave_up,
             index_status = IF $gave_up THEN 'failed' ELSE 'queued' END,
             claimed_by = NONE, claimed_until = NONE
         WHERE version = $version AND needs_indexing = true
             AND (claimed_by = NONE OR claimed_by = $worker)
         RETURN NONE",
    )
    .bind(("id", file.id.clone()))
    .bind(("worker", worker.to_owned()))
    .bind(("attempts", attempts))
    .bind(("reason", reason))
    .bind(("backoff", backoff.as_secs().to_string()))
    .bind(("gave_up", gave_up))
    .bind(("version", file.version))
    .await?
    .check()?;
    Ok(())
}

/// Deletes for good the files deleted more than `retention` ago (their history and
/// chunks go with them); returns how many.
pub(crate) async fn purge(db: &Db, retention: Duration) -> Result<usize, DbError> {
    let mut response = db
        .query(
            "DELETE file WHERE deleted_at != NONE
                 AND deleted_at < time::now() - <duration>($seconds + 's')
             RETURN BEFORE",
        )
        .bind(("seconds", retention.as_secs().to_string()))
        .await?
        .check()?;
    let purged: Vec<surrealdb::types::Value> = response.take(0)?;
    Ok(purged.len())
}

/// Seconds until the earliest future `index_retry_at` or `claimed_until` of a queued
/// file (whichever `field` names).
pub(crate) async fn seconds_until(db: &Db, field: QueueTime) -> Result<Option<i64>, DbError> {
    let field = match field {
        QueueTime::RetryAt => "index_retry_at",
        QueueTime::ClaimedUntil => "claimed_until",
    };
    let mut response = db
        .query(format!(
            "SELECT VALUE time::unix({field}) - time::unix(time::now()) FROM file
             WHERE needs_indexing = true AND {field} != NONE AND {field} > time::now()
             ORDER BY {field} LIMIT 1"
        ))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// The times the indexing queue waits for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum QueueTime {
    RetryAt,
    ClaimedUntil,
}
