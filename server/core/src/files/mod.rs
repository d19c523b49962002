//! Code documents: files in a project, uploaded, versioned, indexed and searched.
//!
//! Every change is one database transaction (see the `fn::put_file` and
//! `fn::write_version` functions in `store/functions.surql`) that also keeps the project's
//! counters, writes the history row, drops stale chunks and sets `needs_indexing`;
//! the [`Indexer`] picks the flag up in the background.

mod archive;
mod blobs;
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
    CodeSymbol, FileDetail, FileSummary, IndexFailure, IndexState, IndexStatus, OutlineState,
};
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
    access::{FileScope, ProjectScope},
    db::Db,
    events::EventDispatcher,
    parsing::ParserService,
    store::files::{self as store, NewContent, PATH_INDEX, SymbolRow, unsigned},
};

/// Failed files listed by the index status.
const MAX_LISTED_FAILURES: usize = 100;

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
    pub fn file_too_large(&self, name: &str) -> ServiceError {
        let limit = self.max_file_bytes;
        ServiceError::too_large(format!("{name:?} is larger than {limit} bytes"), limit)
    }

    /// 413 for an upload over the per-request limit.
    pub fn upload_too_large(&self) -> ServiceError {
        let limit = self.max_request_bytes;
        ServiceError::too_large(format!("the upload holds more than {limit} bytes"), limit)
    }
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
            // Its name in `claimed_by`: random, so no two workers share one.
            crate::auth::random_token::<8>()?,
        ))
    }

    /// Starts the background indexer under `jobs`: it resumes the stored backlog at
    /// once and stops when the supervisor does. `sole_user`: no other process uses
    /// this database (an embedded engine), so claims left in it are a dead process's
    /// and are released at once instead of when their lease runs out.
    pub async fn start_indexer(
        &self,
        jobs: &crate::jobs::Supervisor,
        sole_user: bool,
    ) -> Result<(), ServiceError> {
        let indexer = Arc::new(self.indexer().await?);
        if sole_user {
            indexer.release(None).await?;
        }
        jobs.spawn("indexer", move |stop| indexer.clone().run(stop));
        Ok(())
    }

    /// Changes whenever the indexer finished some work.
    pub fn progress(&self) -> watch::Receiver<u64> {
        self.progress.subscribe()
    }

    /// A project's live files (and deleted ones if asked), by path.
    pub async fn list(
        &self,
        scope: &ProjectScope,
        include_deleted: bool,
    ) -> Result<Vec<FileSummary>, ServiceError> {
        let rows = store::list(&self.db, scope.id().as_str(), include_deleted).await?;
        Ok(rows.into_iter().map(FileSummary::from).collect())
    }

    /// One file with its content and outline.
    pub async fn get(&self, scope: &FileScope) -> Result<FileDetail, ServiceError> {
        let file_id = scope.id().as_str();
        let Some((summary, detail)) = store::detail(&self.db, file_id).await? else {
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

    /// How far indexing is in a project, which files failed and why, and which have
    /// no outline from their parser and why.
    pub async fn index_status(&self, scope: &ProjectScope) -> Result<IndexStatus, ServiceError> {
        let figures =
            store::index_status(&self.db, scope.id().as_str(), MAX_LISTED_FAILURES).await?;
        let mut status = IndexStatus::default();
        for count in figures.states {
            let files = unsigned(count.files);
            match IndexState::parse(&count.index_status) {
                Some(IndexState::Queued) => status.queued += files,
                Some(IndexState::Indexed) => status.indexed += files,
                Some(IndexState::Failed) => status.failed += files,
                Some(IndexState::Skipped) | None => status.skipped += files,
            }
        }
        for count in figures.outlines {
            match OutlineState::parse(&count.outline) {
                Some(OutlineState::Unparsable) => status.unparsable += unsigned(count.files),
                Some(OutlineState::Fallback) => status.fallback += unsigned(count.files),
                _ => {}
            }
        }
        let listed = |files: Vec<store::FailedFile>| {
            files
                .into_iter()
                .map(|f| IndexFailure {
                    file_id: f.file_id,
                    path: f.path,
                    error: f.error,
                })
                .collect()
        };
        status.failures = listed(figures.failed);
        status.without_outline = listed(figures.without_outline);
        Ok(status)
    }

    /// The summary of one file.
    async fn summary(&self, file_id: &str) -> Result<FileSummary, ServiceError> {
        store::summary(&self.db, file_id)
            .await?
            .map(FileSummary::from)
            .ok_or_else(|| not_found(file_id))
    }
}

fn not_found(file_id: &str) -> ServiceError {
    ServiceError::not_found("file", format!("no file with id {file_id:?}"))
}

impl NewContent {
    /// Sniffs and hashes `bytes` for the file at `path`.
    fn read(path: String, bytes: Vec<u8>) -> Self {
        let sha256 = kiln_plugin_host::sha256_hex(&bytes);
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        match sniff(&bytes) {
            Content::Text { text, note } => Self {
                lines: line_count(&text),
                language: language_of(&path, &text),
                path,
                sha256,
                size,
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

/// The language of the text file at `path`: by its name, and a notebook by its
/// kernel (search filters by it).
fn language_of(path: &str, text: &str) -> String {
    if crate::notebook::is_notebook(path) {
        return crate::notebook::kernel_language(text).unwrap_or_else(|| "python".into());
    }
    kiln_parser_generic::GenericParser::language(path).to_owned()
}

/// Lines as editors count them: LF, CRLF and a bare CR each end one; a final line
/// without an ending counts.
fn line_count(text: &str) -> i64 {
    i64::try_from(kiln_plugin_sdk::text::line_count(text)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use kiln_plugin_host::PluginEngine;
    use kiln_types::{FileEdit, NewProject, UploadOutcome};

    use super::*;
    use crate::{
        ProjectService, TimelineService,
        access::{self, ProjectScope},
        auth::Principal,
        error::Conflict,
        events::EventDispatcher,
        plugins::{PluginRegistry, PluginSettings},
        store,
    };

    /// The file service on an in-memory database (built-in parser only), and a
    /// project of Ada's.
    async fn fixture() -> (FileService, ProjectScope) {
        let db = store::in_memory().await.unwrap();
        db.query("CREATE user:ada SET email = 'ada@example.org'")
            .await
            .unwrap()
            .check()
            .unwrap();
        let events = EventDispatcher::new(
            vec![Arc::new(TimelineService::new(db.clone()))],
            Default::default(),
        );
        let ada = Principal {
            user_id: "ada".into(),
            is_admin: false,
            session_id: String::new(),
            csrf_token: String::new(),
            expires_at: u64::MAX,
        };
        let project = ProjectService::new(db.clone(), events.clone())
            .create(
                &ada,
                NewProject {
                    name: "demo".into(),
                    description: String::new(),
                },
            )
            .await
            .unwrap();
        let plugins = PluginRegistry::new(
            PluginEngine::new().unwrap(),
            PluginSettings::default(),
            db.clone(),
        );
        let files = FileService::new(
            db.clone(),
            events,
            ParserService::new(plugins),
            FileSettings::default(),
        );
        let scope = access::project(&db, &ada, &project.id).await.unwrap();
        (files, scope)
    }

    fn file(name: &str, text: &str) -> IncomingFile {
        IncomingFile {
            name: name.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[tokio::test]
    async fn uploads_create_recognise_duplicates_and_version_by_content() {
        let (files, scope) = fixture().await;
        let first = files
            .upload(&scope, vec![file("src/a.rs", "fn a() {}\n")])
            .await
            .unwrap();
        assert_eq!(first.files[0].outcome, UploadOutcome::Created);
        let again = files
            .upload(&scope, vec![file("src/a.rs", "fn a() {}\n")])
            .await
            .unwrap();
        assert_eq!(again.files[0].outcome, UploadOutcome::Duplicate);
        let changed = files
            .upload(&scope, vec![file("src/a.rs", "fn a() { b() }\n")])
            .await
            .unwrap();
        assert_eq!(changed.files[0].outcome, UploadOutcome::Updated);
        assert_eq!(changed.files[0].version, Some(2));
        assert_eq!(changed.files[0].file_id, first.files[0].file_id);
        let listed = files.list(&scope, false).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].version, 2);
    }

    #[tokio::test]
    async fn edits_conflict_by_kind_stale_versions_and_taken_names() {
        let (files, scope) = fixture().await;
        let report = files
            .upload(&scope, vec![file("a.md", "# A\n"), file("b.md", "# B\n")])
            .await
            .unwrap();
        let a = report.files[0].file_id.clone().unwrap();
        let a = access::file(&files.db, scope.principal(), &a)
            .await
            .unwrap();
        let edit = |version, content: Option<&str>, path: Option<&str>| FileEdit {
            version,
            content: content.map(str::to_owned),
            path: path.map(str::to_owned),
        };
        let stale = files
            .edit(&a, edit(9, Some("# late\n"), None))
            .await
            .unwrap_err();
        assert!(
            matches!(
                stale,
                ServiceError::Conflict(Conflict::StaleVersion {
                    current_version: 1,
                    ..
                })
            ),
            "{stale:?}"
        );
        let taken = files
            .edit(&a, edit(1, None, Some("b.md")))
            .await
            .unwrap_err();
        assert!(
            matches!(taken, ServiceError::Conflict(Conflict::NameTaken(_))),
            "{taken:?}"
        );
        let saved = files
            .edit(&a, edit(1, Some("# A, edited\n"), None))
            .await
            .unwrap();
        assert_eq!(saved.version, 2);
    }

    #[tokio::test]
    async fn a_file_restored_twice_at_once_is_counted_once() {
        let (files, scope) = fixture().await;
        let report = files
            .upload(&scope, vec![file("a.md", "# A\n")])
            .await
            .unwrap();
        let id = report.files[0].file_id.clone().unwrap();
        let a = access::file(&files.db, scope.principal(), &id)
            .await
            .unwrap();
        files.delete(&a).await.unwrap();
        let (first, second) = tokio::join!(files.restore(&a, None), files.restore(&a, None));
        assert!(first.is_ok() || second.is_ok(), "{first:?} {second:?}");
        let project = access::project(&files.db, scope.principal(), scope.id().as_str())
            .await
            .unwrap();
        let stats = ProjectService::new(files.db.clone(), files.events.clone())
            .stats(&project)
            .await
            .unwrap();
        assert_eq!(stats.file_count, 1, "the restored file counts once");
    }
}
