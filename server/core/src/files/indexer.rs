//! The background indexer: parses files whose `needs_indexing` flag is set into
//! symbols and search chunks, on its own database session.
//!
//! The flag is the queue, so nothing is lost to a crash or restart: the worker starts
//! with whatever is still flagged. A file's chunks and the cleared flag are written in
//! one transaction, and only if the file is still at the version that was parsed — an
//! edit meanwhile leaves the flag set for the next round. Failures are retried with
//! backoff, then the file is marked failed with the reason.
//!
//! Work is claimed with a lease (`claimed_by`, `claimed_until`): a batch is taken by
//! one worker for [`LEASE`], so two workers — or two Kiln instances on one database —
//! never index the same file at once, and a worker that dies leaves its batch to the
//! others when the lease runs out.

use std::{sync::Arc, time::Duration};

use kiln_types::{CodeSymbol, OutlineState};
use surrealdb::types::RecordId;
use tokio::{sync::Notify, sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use unicode_normalization::UnicodeNormalization;

use super::{
    SymbolRow,
    blobs::{blob_ranges, elide},
    code_words, store,
};
use crate::{
    ServiceError,
    db::Db,
    parsing::{Parsed, ParserService},
    store::{
        DbError, codes,
        files::{ChunkRow, OutlineRow, Pending, QueueTime},
    },
};

/// Files taken from the backlog at a time.
const BATCH: usize = 16;
/// Files parsed at once (a parse holds a blocking thread, and a plugin slot).
const CONCURRENCY: usize = 2;
/// Tries before a file is marked failed.
const MAX_ATTEMPTS: i64 = 3;
/// Times a file is parsed again after its parser was unavailable.
const MAX_REPARSES: i64 = 4;
/// How long an idle indexer sleeps when nothing wakes it (retries are due earlier).
const IDLE: Duration = Duration::from_secs(60);
/// Deleted files stay restorable this long, then are purged with their history.
pub const TRASH_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// How often the purge runs.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How long a claimed batch stays with its worker (a batch takes well under a second
/// per file; a worker that dies holds its files this long at most).
pub const LEASE: Duration = Duration::from_secs(30);

pub struct Indexer {
    db: Db,
    parsers: ParserService,
    wake: Arc<Notify>,
    progress: watch::Sender<u64>,
    /// This worker's name in `claimed_by`.
    worker: String,
}

impl Indexer {
    pub(super) fn new(
        db: Db,
        parsers: ParserService,
        wake: Arc<Notify>,
        progress: watch::Sender<u64>,
        worker: String,
    ) -> Self {
        Self {
            db,
            parsers,
            wake,
            progress,
            worker,
        }
    }

    /// Works through the backlog until `stop` is cancelled; returns promptly then (a
    /// batch in progress is abandoned: its files keep their flag, so nothing is lost).
    /// An error ends the run, for the supervisor to restart it.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) -> Result<(), ServiceError> {
        tracing::info!("indexer started");
        let mut next_purge = tokio::time::Instant::now();
        let mut failures = 0_u32;
        while !stop.is_cancelled() {
            if tokio::time::Instant::now() >= next_purge {
                next_purge += PURGE_EVERY;
                match self.purge(TRASH_RETENTION).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "deleted files purged"),
                    Err(error) => tracing::error!(%error, "purging deleted files failed"),
                }
            }
            let step = tokio::select! {
                () = stop.cancelled() => break,
                step = self.step() => step,
            };
            let pause = match step {
                Ok(0) => {
                    failures = 0;
                    self.next_retry().await.unwrap_or(IDLE)
                }
                Ok(_) => {
                    failures = 0;
                    continue;
                }
                // A database hiccup: pause, then try again; a lasting failure is the
                // supervisor's to restart with backoff.
                Err(error) if failures < 3 => {
                    failures += 1;
                    tracing::warn!(%error, failures, "indexer round failed; pausing");
                    Duration::from_secs(5)
                }
                Err(error) => {
                    // Its batch goes back to the queue before the supervisor restarts it.
                    if let Err(release) = self.release(Some(&self.worker)).await {
                        tracing::warn!(error = %release, "could not release the indexer's claims");
                    }
                    return Err(error);
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
        // What this worker claimed but did not finish goes back to the queue now.
        if let Err(error) = self.release(Some(&self.worker)).await {
            tracing::warn!(%error, "could not release the indexer's claims");
        }
        tracing::info!("indexer stopped");
        Ok(())
    }

    /// Gives back the claims of `worker` (all claims with `None`: at the start of a
    /// process that alone uses its database, every claim is a dead process's).
    pub async fn release(&self, worker: Option<&str>) -> Result<(), ServiceError> {
        Ok(store::release(&self.db, worker).await?)
    }

    /// Indexes one batch of the backlog; returns how many files it took.
    pub async fn step(&self) -> Result<usize, ServiceError> {
        let pending = store::claim(&self.db, &self.worker, BATCH, LEASE).await?;
        let taken = pending.len();
        let mut queue = pending.into_iter();
        let mut running = JoinSet::new();
        loop {
            while running.len() < CONCURRENCY
                && let Some(file) = queue.next()
            {
                let (db, parsers) = (self.db.clone(), self.parsers.clone());
                let worker = self.worker.clone();
                running.spawn(async move { index_one(&db, &parsers, &worker, file).await });
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
        Ok(store::purge(&self.db, retention).await?)
    }

    /// How long until the earliest retry is due, or the earliest claim of another
    /// worker runs out.
    async fn next_retry(&self) -> Option<Duration> {
        let retry = store::seconds_until(&self.db, QueueTime::RetryAt)
            .await
            .ok()?;
        let lease = store::seconds_until(&self.db, QueueTime::ClaimedUntil)
            .await
            .ok()?;
        let seconds = match (retry, lease) {
            (Some(retry), Some(lease)) => retry.min(lease),
            (one, other) => one.or(other)?,
        };
        Some(Duration::from_secs(
            u64::try_from(seconds.max(1)).unwrap_or(1),
        ))
    }
}

/// Parses one file and writes its chunks; a failure is recorded on the file.
async fn index_one(db: &Db, parsers: &ParserService, worker: &str, file: Pending) {
    let id = file.id.clone();
    let result = match parsers.parse(&file.path, file.content.clone()).await {
        Ok(parsed) => write_chunks(db, worker, &file, parsed).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => tracing::debug!(file = %id, path = %file.path, "indexed"),
        Err(error) => {
            tracing::warn!(file = %id, path = %file.path, %error, "indexing failed");
            if let Err(error) = record_failure(db, worker, &file, &error.to_string()).await {
                tracing::error!(file = %id, %error, "could not record an indexing failure");
            }
        }
    }
}

async fn write_chunks(
    db: &Db,
    worker: &str,
    file: &Pending,
    parsed: Parsed,
) -> Result<(), ServiceError> {
    let Parsed {
        file: parsed,
        outline,
        reason,
    } = parsed;
    // Embedded data (base64, SVG) found in the whole file, so that a blob split across
    // chunks is left out of each.
    let blobs = blob_ranges(&file.content);
    let chunks: Vec<ChunkRow> = parsed
        .chunks
        .iter()
        .filter_map(|chunk| {
            let (start, end) = (chunk.span.start_byte as usize, chunk.span.end_byte as usize);
            // What search indexes: the text without embedded data, in NFC (as queries
            // are), so a decomposed `Größe` and a composed one are one word.
            let text: String = elide(file.content.get(start..end)?, start, &blobs)
                .nfc()
                .collect();
            if code_words(&text).is_empty() {
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
                text,
                symbols: symbols_within(&parsed.symbols, start, end),
            })
        })
        .collect();
    let symbols: Vec<SymbolRow> = parsed.symbols.iter().map(SymbolRow::from).collect();
    let outline = OutlineRow {
        parser: parsed.parser.clone(),
        state: outline,
        retry: reparse_after(outline, file.index_attempts),
        error: reason.map(|reason| reason.chars().take(500).collect()),
    };
    if let Some((after, _)) = outline.retry {
        tracing::info!(file = %file.id, path = %file.path, seconds = after.as_secs(),
            "parser unavailable; built-in chunks for now, parsing again later");
    }
    match store::write_chunks(db, worker, file, chunks, symbols, outline).await {
        // Changed, deleted or written by someone else meanwhile: the flag is still set
        // where work remains, and the next round picks it up.
        Ok(_) | Err(DbError::Conflict) => Ok(()),
        Err(error) if error.is_thrown(codes::STALE) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// When a file whose parser was unavailable is parsed again: after the parser's
/// quarantine is likely over (1, 2, 4, 8 minutes), at most [`MAX_REPARSES`] times —
/// a parser that stays broken leaves the built-in chunks, and the reason, in place.
fn reparse_after(outline: OutlineState, attempts: i64) -> Option<(Duration, i64)> {
    (outline == OutlineState::Fallback && attempts < MAX_REPARSES).then(|| {
        let minutes = 1_u64 << attempts.clamp(0, 10);
        (Duration::from_secs(60 * minutes), attempts + 1)
    })
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
async fn record_failure(
    db: &Db,
    worker: &str,
    file: &Pending,
    reason: &str,
) -> Result<(), ServiceError> {
    let attempts = file.index_attempts + 1;
    let gave_up = attempts >= MAX_ATTEMPTS;
    let backoff = 1_i64 << attempts.clamp(1, 10);
    let reason: String = reason.chars().take(500).collect();
    let backoff = Duration::from_secs(backoff.unsigned_abs());
    Ok(store::record_failure(db, worker, file, attempts, reason, backoff, gave_up).await?)
}
