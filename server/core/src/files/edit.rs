//! Changing files: edits and renames with optimistic locking, soft delete, history,
//! diff and restore. Every change is a new version; the previous one stays readable.

use kiln_types::{
    ApiError, CurrentVersion, ErrorKind, FileDiff, FileEdit, FileSummary, FileVersion,
};
use surrealdb::types::SurrealValue;

use super::{
    FileService, NewContent, TIME_FORMAT, diff::diff, normalize_path, not_found, unsigned,
    upload::WRITE_ATTEMPTS,
};
use crate::{
    ServiceError,
    auth::Principal,
    events::{DomainEvent, FileChange},
};

/// A version's content as stored (the current one on `file`, older ones on
/// `file_version`).
#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct StoredVersion {
    version: i64,
    path: String,
    sha256: String,
    size: i64,
    lines: i64,
    binary: bool,
    content: String,
    data: Option<surrealdb::types::Bytes>,
    note: Option<String>,
    language: String,
    author_id: Option<String>,
    created_at: String,
    deleted: bool,
}

impl StoredVersion {
    fn as_new(&self, path: String) -> NewContent {
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

    fn listing(&self, current: bool, with_content: bool) -> FileVersion {
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

fn version_fields(current: bool) -> String {
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

impl FileService {
    /// Changes a file's content and/or path, made on version `edit.version`: a stale
    /// version is a 409 carrying the current version and hash.
    pub async fn edit(
        &self,
        principal: &Principal,
        file_id: &str,
        edit: FileEdit,
    ) -> Result<FileSummary, ServiceError> {
        if edit.content.is_none() && edit.path.is_none() {
            return Err(ApiError::invalid_field(
                "content",
                "send new content, a new path, or both",
            )
            .into());
        }
        let project_id = self.authorize(principal, file_id).await?;
        let project = self.writable_project(principal, &project_id).await?;
        let current = self.current(file_id).await?;
        if current.deleted {
            return Err(ServiceError::Conflict(
                "the file is deleted: restore it first".into(),
            ));
        }
        if unsigned(current.version) != edit.version {
            return Err(stale(&current));
        }
        let path = match &edit.path {
            Some(path) => normalize_path("path", path)?,
            None => current.path.clone(),
        };
        let new = match edit.content {
            Some(content) => {
                if u64::try_from(content.len()).unwrap_or(u64::MAX) > self.settings.max_file_bytes {
                    return Err(self.settings.file_too_large(&path).into());
                }
                NewContent::read(path, content.into_bytes())
            }
            None => current.as_new(path),
        };
        if new.path == current.path && new.sha256 == current.sha256 {
            return self.summary(file_id).await;
        }
        let change = if new.path != current.path {
            FileChange::Renamed {
                from: current.path.clone(),
            }
        } else {
            FileChange::Edited
        };
        self.write_version(file_id, current.version, &new, principal)
            .await?;
        self.announce(project, principal, file_id, &new.path, change)
            .await
    }

    /// Soft-deletes a file: it leaves listings, search and the counters, and can be
    /// restored until it is purged.
    pub async fn delete(&self, principal: &Principal, file_id: &str) -> Result<(), ServiceError> {
        let project_id = self.authorize(principal, file_id).await?;
        let project = self.writable_project(principal, &project_id).await?;
        let mut response = self
            .db
            .query(
                "BEGIN TRANSACTION;
                 LET $file = type::record('file', $id);
                 LET $old = SELECT * FROM ONLY $file;
                 IF $old.deleted_at != NONE { THROW 'already_deleted'; };
                 UPDATE $file SET deleted_at = time::now(), needs_indexing = false, updated_by = type::record('user', $user) RETURN NONE;
                 DELETE chunk WHERE file = $file;
                 fn::count_file($old.project, $old, -1);
                 RETURN $old.path;
                 COMMIT TRANSACTION;",
            )
            .bind(("id", file_id.to_owned()))
            .bind(("user", principal.user_id.clone()))
            .await?;
        let errors = response.take_errors();
        if errors
            .values()
            .any(|e| e.message().contains("already_deleted"))
        {
            return Err(ServiceError::NotFound(format!(
                "file {file_id:?} is already deleted"
            )));
        }
        if let Some(error) = errors.into_values().next() {
            return Err(error.into());
        }
        // The RETURN, just before COMMIT.
        let path: Option<String> = response.take(response.num_statements() - 2)?;
        self.events
            .publish(DomainEvent::FileDeleted {
                project,
                actor_id: principal.user_id.clone(),
                file_id: file_id.to_owned(),
                path: path.unwrap_or_default(),
            })
            .await;
        Ok(())
    }

    /// Undeletes a file (no version given), or brings back an older version's content
    /// as a new version.
    pub async fn restore(
        &self,
        principal: &Principal,
        file_id: &str,
        version: Option<u64>,
    ) -> Result<FileSummary, ServiceError> {
        let project_id = self.authorize(principal, file_id).await?;
        let project = self.writable_project(principal, &project_id).await?;
        let current = self.current(file_id).await?;
        let Some(version) = version else {
            if !current.deleted {
                return Err(ApiError::invalid_field(
                    "version",
                    "the file is not deleted: name a version to restore",
                )
                .into());
            }
            self.undelete(file_id, principal).await?;
            return self
                .announce(
                    project,
                    principal,
                    file_id,
                    &current.path,
                    FileChange::Undeleted,
                )
                .await;
        };
        if version == unsigned(current.version) {
            return Err(
                ApiError::invalid_field("version", "this is already the current version").into(),
            );
        }
        let old = self.stored(file_id, version).await?;
        let new = old.as_new(current.path.clone());
        self.write_version(file_id, current.version, &new, principal)
            .await?;
        self.announce(
            project,
            principal,
            file_id,
            &current.path,
            FileChange::Restored { version },
        )
        .await
    }

    /// Every version, newest first.
    pub async fn versions(
        &self,
        principal: &Principal,
        file_id: &str,
    ) -> Result<Vec<FileVersion>, ServiceError> {
        self.authorize(principal, file_id).await?;
        let current = self.current(file_id).await?;
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM file_version WHERE file = type::record('file', $id) ORDER BY version DESC",
                version_fields(false)
            ))
            .bind(("id", file_id.to_owned()))
            .await?
            .check()?;
        let older: Vec<StoredVersion> = response.take(0)?;
        Ok(std::iter::once(current.listing(true, false))
            .chain(older.iter().map(|v| v.listing(false, false)))
            .collect())
    }

    /// One version with its content.
    pub async fn version(
        &self,
        principal: &Principal,
        file_id: &str,
        version: u64,
    ) -> Result<FileVersion, ServiceError> {
        self.authorize(principal, file_id).await?;
        let current = self.current(file_id).await?;
        if version == unsigned(current.version) {
            return Ok(current.listing(true, true));
        }
        Ok(self.stored(file_id, version).await?.listing(false, true))
    }

    /// What changed from version `from` to version `to` (default: the current one).
    pub async fn diff(
        &self,
        principal: &Principal,
        file_id: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<FileDiff, ServiceError> {
        self.authorize(principal, file_id).await?;
        let current = self.current(file_id).await?;
        let load = async |version: u64| {
            if version == unsigned(current.version) {
                Ok(current.content.clone())
            } else {
                self.stored(file_id, version).await.map(|v| v.content)
            }
        };
        let to = to.unwrap_or(unsigned(current.version));
        let (old, new) = (load(from).await?, load(to).await?);
        Ok(diff(from, &old, to, &new))
    }

    async fn current(&self, file_id: &str) -> Result<StoredVersion, ServiceError> {
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM ONLY type::record('file', $id)",
                version_fields(true)
            ))
            .bind(("id", file_id.to_owned()))
            .await?
            .check()?;
        let row: Option<StoredVersion> = response.take(0)?;
        row.ok_or_else(|| not_found(file_id))
    }

    async fn stored(&self, file_id: &str, version: u64) -> Result<StoredVersion, ServiceError> {
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM ONLY file_version WHERE file = type::record('file', $id) AND version = $version LIMIT 1",
                version_fields(false)
            ))
            .bind(("id", file_id.to_owned()))
            .bind(("version", i64::try_from(version).unwrap_or(i64::MAX)))
            .await?
            .check()?;
        let row: Option<StoredVersion> = response.take(0)?;
        row.ok_or_else(|| {
            ServiceError::NotFound(format!("file {file_id:?} has no version {version}"))
        })
    }

    /// `fn::write_version` made on version `seen`.
    async fn write_version(
        &self,
        file_id: &str,
        seen: i64,
        new: &NewContent,
        principal: &Principal,
    ) -> Result<(), ServiceError> {
        for attempt in 1..=WRITE_ATTEMPTS {
            let mut response = self
                .db
                .query(
                    "BEGIN TRANSACTION;
                     RETURN fn::write_version(type::record('file', $id), $seen, $new, type::record('user', $user));
                     COMMIT TRANSACTION;",
                )
                .bind(("id", file_id.to_owned()))
                .bind(("seen", seen))
                .bind(("new", new.clone()))
                .bind(("user", principal.user_id.clone()))
                .await?;
            let errors = response.take_errors();
            if errors.is_empty() {
                self.wake.notify_one();
                return Ok(());
            }
            let said = |needle: &str| errors.values().any(|e| e.message().contains(needle));
            if said("stale") {
                return Err(stale(&self.current(file_id).await?));
            }
            if said("file_project_path") {
                return Err(ServiceError::Conflict(format!(
                    "a file already exists at {:?}",
                    new.path
                )));
            }
            if !said("can be retried") || attempt == WRITE_ATTEMPTS {
                let detail: Vec<String> = errors.values().map(ToString::to_string).collect();
                return Err(ServiceError::Internal(format!(
                    "writing a version failed: {}",
                    detail.join("; ")
                )));
            }
        }
        Err(ServiceError::Internal(
            "writing a version kept conflicting".into(),
        ))
    }

    async fn undelete(&self, file_id: &str, principal: &Principal) -> Result<(), ServiceError> {
        self.db
            .query(
                "BEGIN TRANSACTION;
                 LET $file = type::record('file', $id);
                 LET $old = SELECT * FROM ONLY $file;
                 UPDATE $file SET deleted_at = NONE, needs_indexing = !binary,
                     index_status = IF binary THEN 'skipped' ELSE 'queued' END,
                     index_error = NONE, index_attempts = 0, index_retry_at = NONE,
                     updated_by = type::record('user', $user)
                 RETURN NONE;
                 fn::count_file($old.project, $old, 1);
                 COMMIT TRANSACTION;",
            )
            .bind(("id", file_id.to_owned()))
            .bind(("user", principal.user_id.clone()))
            .await?
            .check()?;
        self.wake.notify_one();
        Ok(())
    }

    async fn announce(
        &self,
        project: crate::events::ProjectRef,
        principal: &Principal,
        file_id: &str,
        path: &str,
        change: FileChange,
    ) -> Result<FileSummary, ServiceError> {
        let summary = self.summary(file_id).await?;
        self.events
            .publish(DomainEvent::FileUpdated {
                project,
                actor_id: principal.user_id.clone(),
                file_id: file_id.to_owned(),
                path: path.to_owned(),
                version: summary.version,
                change,
            })
            .await;
        Ok(summary)
    }
}

/// 409 for an edit made on an outdated version.
fn stale(current: &StoredVersion) -> ServiceError {
    ApiError {
        current: Some(Box::new(CurrentVersion {
            current_version: unsigned(current.version),
            current_sha256: current.sha256.clone(),
        })),
        ..ApiError::new(
            ErrorKind::Conflict,
            format!(
                "the file changed since you opened it: it is now at version {}",
                current.version
            ),
        )
    }
    .into()
}
