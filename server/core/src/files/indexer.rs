//! The background indexer: parses files whose `needs_indexing` flag is set into
//! symbols and search chunks, on its own database session.
//!
//! The flag is the queue, so nothing is lost to a crash or restart: the worker starts
//! with whatever is still flagged. A file's chunks and the cleared flag are written in
//! one transaction, and only if the file is still at the version that was parsed — an
//! edit meanwhile leaves the flag set for the next round. Failures are retried with
//! backoff, then the file is marked failed with the reason.

use std::{sync::Arc, time::Duration};

use kiln_types::{CodeSymbol, ParsedFile};
use surrealdb::types::{RecordId, SurrealValue};
use tokio::{sync::Notify, sync::watch, task::JoinSet};

use super::{SymbolRow, code_words};
use crate::{ServiceError, db::Db, parsing::ParserService};

/// Files taken from the backlog at a time.
const BATCH: usize = 16;
/// Files parsed at once (a parse holds a blocking thread, and a plugin slot).
const CONCURRENCY: usize = 2;
/// Tries before a file is marked failed.
const MAX_ATTEMPTS: i64 = 3;
/// How long an idle indexer sleeps when nothing wakes it (retries are due earlier).
const IDLE: Duration = Duration::from_secs(60);
/// Deleted files stay restorable this long, then are purged with their history.
pub const TRASH_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// How often the purge runs.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct Pending {
    id: String,
    project_id: String,
    version: i64,
    path: String,
    language: String,
    content: String,
    index_attempts: i64,
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct ChunkRow {
    file: RecordId,
    project: RecordId,
    path: String,
    language: String,
    version: i64,
    start_byte: i64,
    end_byte: i64,
    start_line: i64,
    end_line: i64,
    text: String,
    symbols: String,
}

pub struct Indexer {
    db: Db,
    parsers: ParserService,
    wake: Arc<Notify>,
    progress: watch::Sender<u64>,
}

impl Indexer {
    pub(super) fn new(
        db: Db,
        parsers: ParserService,
        wake: Arc<Notify>,
        progress: watch::Sender<u64>,
    ) -> Self {
        Self {
            db,
            parsers,
            wake,
            progress,
        }
    }

    /// Works through the backlog for as long as the server runs.
    pub async fn run(self) {
        tracing::info!("indexer started");
        let mut next_purge = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_purge {
                next_purge += PURGE_EVERY;
                match self.purge(TRASH_RETENTION).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "deleted files purged"),
                    Err(error) => tracing::error!(%error, "purging deleted files failed"),
                }
            }
            match self.step().await {
                Ok(0) => {
                    let pause = self.next_retry().await.unwrap_or(IDLE);
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(pause) => {}
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "indexer round failed; pausing");
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
            }
        }
    }

    /// Indexes one batch of the backlog; returns how many files it took.
    pub async fn step(&self) -> Result<usize, ServiceError> {
        let mut response = self
            .db
            .query(
                "SELECT record::id(id) AS id, record::id(project) AS project_id, version, path,
                        language, index_attempts,
                        (SELECT VALUE content FROM ONLY type::record('file_content', record::id($parent.id))) ?? ''
                            AS content
                 FROM file WHERE needs_indexing = true
                     AND (index_retry_at = NONE OR index_retry_at <= time::now())
                 LIMIT $batch",
            )
            .bind(("batch", BATCH))
            .await?
            .check()?;
        let pending: Vec<Pending> = response.take(0)?;
        let taken = pending.len();
        let mut queue = pending.into_iter();
        let mut running = JoinSet::new();
        loop {
            while running.len() < CONCURRENCY
                && let Some(file) = queue.next()
            {
                let (db, parsers) = (self.db.clone(), self.parsers.clone());
                running.spawn(async move { index_one(&db, &parsers, file).await });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            if let Err(error) = done {
                tracing::error!(%error, "indexing task failed");
            }
        }
        if taken > 0 {
            self.progress.send_modify(|rounds| *rounds += 1);
        }
        Ok(taken)
    }

    /// Deletes for good the files deleted more than `retention` ago (their history and
    /// chunks go with them); returns how many.
    pub async fn purge(&self, retention: Duration) -> Result<usize, ServiceError> {
        let mut response = self
            .db
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

    /// How long until the earliest retry is due.
    async fn next_retry(&self) -> Option<Duration> {
        let mut response = self
            .db
            .query(
                "SELECT VALUE time::unix(index_retry_at) - time::unix(time::now()) FROM file
                 WHERE needs_indexing = true AND index_retry_at != NONE
                 ORDER BY index_retry_at LIMIT 1",
            )
            .await
            .ok()?;
        let seconds: Option<i64> = response.take(0).ok()?;
        seconds.map(|s| Duration::from_secs(u64::try_from(s.max(1)).unwrap_or(1)))
    }
}

/// Parses one file and writes its chunks; a failure is recorded on the file.
async fn index_one(db: &Db, parsers: &ParserService, file: Pending) {
    let id = file.id.clone();
    let result = match parsers.parse(&file.path, file.content.clone()).await {
        Ok(parsed) => write_chunks(db, &file, &parsed).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => tracing::debug!(file = %id, path = %file.path, "indexed"),
        Err(error) => {
            tracing::warn!(file = %id, path = %file.path, %error, "indexing failed");
            if let Err(error) = record_failure(db, &file, &error.to_string()).await {
                tracing::error!(file = %id, %error, "could not record an indexing failure");
            }
        }
    }
}

async fn write_chunks(db: &Db, file: &Pending, parsed: &ParsedFile) -> Result<(), ServiceError> {
    let chunks: Vec<ChunkRow> = parsed
        .chunks
        .iter()
        .filter_map(|chunk| {
            let (start, end) = (chunk.span.start_byte as usize, chunk.span.end_byte as usize);
            let text = file.content.get(start..end)?;
            if code_words(text).is_empty() {
                return None;
            }
            Some(ChunkRow {
                file: RecordId::new("file", file.id.clone()),
                project: RecordId::new("project", file.project_id.clone()),
                path: file.path.clone(),
                language: file.language.clone(),
                version: file.version,
                start_byte: chunk.span.start_byte.into(),
                end_byte: chunk.span.end_byte.into(),
                start_line: chunk.span.start_line.into(),
                end_line: chunk.span.end_line.into(),
                text: text.to_owned(),
                symbols: symbols_within(&parsed.symbols, start, end),
            })
        })
        .collect();
    let symbols: Vec<SymbolRow> = parsed.symbols.iter().map(SymbolRow::from).collect();
    let mut response = db
        .query(
            "BEGIN TRANSACTION;
             LET $file = type::record('file', $id);
             LET $now = SELECT version, deleted_at FROM ONLY $file;
             IF $now = NONE OR $now.version != $version OR $now.deleted_at != NONE { THROW 'stale'; };
             DELETE chunk WHERE file = $file;
             INSERT INTO chunk $chunks RETURN NONE;
             UPDATE type::record('file_content', $id) SET symbols = $symbols RETURN NONE;
             UPDATE $file SET parser = $parser, needs_indexing = false,
                 index_status = 'indexed', index_error = NONE, index_attempts = 0,
                 index_retry_at = NONE
             RETURN NONE;
             COMMIT TRANSACTION;",
        )
        .bind(("id", file.id.clone()))
        .bind(("version", file.version))
        .bind(("chunks", chunks))
        .bind(("symbols", symbols))
        .bind(("parser", parsed.parser.clone()))
        .await?;
    let errors = response.take_errors();
    let said = |needle: &str| errors.values().any(|e| e.message().contains(needle));
    // Changed, deleted or written by someone else meanwhile: the flag is still set
    // where work remains, and the next round picks it up.
    if errors.is_empty() || said("stale") || said("can be retried") {
        return Ok(());
    }
    let detail: Vec<String> = errors.values().map(ToString::to_string).collect();
    Err(ServiceError::Internal(format!(
        "writing chunks failed: {}",
        detail.join("; ")
    )))
}

/// Names of the symbols that start inside `start..end`, space-separated.
fn symbols_within(symbols: &[CodeSymbol], start: usize, end: usize) -> String {
    symbols
        .iter()
        .filter(|symbol| (start..end).contains(&(symbol.span.start_byte as usize)))
        .map(|symbol| symbol.name.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Backs off 2, 4, 8… seconds; after [`MAX_ATTEMPTS`] the file is failed for good.
async fn record_failure(db: &Db, file: &Pending, reason: &str) -> Result<(), ServiceError> {
    let attempts = file.index_attempts + 1;
    let gave_up = attempts >= MAX_ATTEMPTS;
    let backoff = 1_i64 << attempts.clamp(1, 10);
    let reason: String = reason.chars().take(500).collect();
    db.query(
        "UPDATE type::record('file', $id) SET
             index_attempts = $attempts, index_error = $reason,
             index_retry_at = time::now() + <duration>($backoff + 's'),
             needs_indexing = !$gave_up,
             index_status = IF $gave_up THEN 'failed' ELSE 'queued' END
         WHERE version = $version RETURN NONE",
    )
    .bind(("id", file.id.clone()))
    .bind(("attempts", attempts))
    .bind(("reason", reason))
    .bind(("backoff", backoff.to_string()))
    .bind(("gave_up", gave_up))
    .bind(("version", file.version))
    .await?
    .check()?;
    Ok(())
}
