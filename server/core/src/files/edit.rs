//! Changing files: edits and renames with optimistic locking, soft delete, history,
//! diff and restore. Every change is a new version; the previous one stays readable.

use kiln_types::{FileDiff, FileEdit, FileSummary, FileVersion};

use super::{
    FileService, NewContent, PATH_INDEX, diff::diff, normalize_path, not_found, store, unsigned,
};
use crate::{
    ServiceError,
    access::FileScope,
    auth::Principal,
    error::Conflict,
    events::{DomainEvent, FileChange},
    store::{codes, files::StoredVersion},
};

impl FileService {
    /// Changes a file's content and/or path, made on version `edit.version`: a stale
    /// version is a 409 carrying the current version and hash.
    pub async fn edit(
        &self,
        scope: &FileScope,
        edit: FileEdit,
    ) -> Result<FileSummary, ServiceError> {
        let (principal, file_id) = (scope.principal(), scope.id().as_str());
        if edit.content.is_none() && edit.path.is_none() {
            return Err(ServiceError::invalid_field(
                "content",
                "send new content, a new path, or both",
            ));
        }
        scope.project().require_writable()?;
        let project = scope.project().reference();
        let current = self.current(file_id).await?;
        if current.deleted {
            return Err(Conflict::Deleted("the file is deleted: restore it first".into()).into());
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
                    return Err(self.settings.file_too_large(&path));
                }
                NewContent::read(path, content.into_bytes())
            }
            None => {
                // A rename can change the language (`notes.txt` → `notes.md`).
                let mut renamed = current.as_new(path);
                if !renamed.binary {
                    renamed.language = super::language_of(&renamed.path, &renamed.content);
                }
                renamed
            }
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
    pub async fn delete(&self, scope: &FileScope) -> Result<(), ServiceError> {
        let (principal, file_id) = (scope.principal(), scope.id().as_str());
        scope.project().require_writable()?;
        let project = scope.project().reference();
        let path = store::delete(&self.db, file_id, &principal.user_id)
            .await
            .map_err(|error| {
                if error.is_thrown(codes::ALREADY_DELETED) {
                    ServiceError::not_found("file", format!("file {file_id:?} is already deleted"))
                } else {
                    error.into()
                }
            })?;
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
        scope: &FileScope,
        version: Option<u64>,
    ) -> Result<FileSummary, ServiceError> {
        let (principal, file_id) = (scope.principal(), scope.id().as_str());
        scope.project().require_writable()?;
        let project = scope.project().reference();
        let current = self.current(file_id).await?;
        let Some(version) = version else {
            if !current.deleted {
                return Err(ServiceError::invalid_field(
                    "version",
                    "the file is not deleted: name a version to restore",
                ));
            }
            self.undelete(file_id, &current.path, principal).await?;
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
            return Err(ServiceError::invalid_field(
                "version",
                "this is already the current version",
            ));
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
    pub async fn versions(&self, scope: &FileScope) -> Result<Vec<FileVersion>, ServiceError> {
        let file_id = scope.id().as_str();
        let current = self.current(file_id).await?;
        let older = store::history(&self.db, file_id).await?;
        Ok(std::iter::once(current.listing(true, false))
            .chain(older.iter().map(|v| v.listing(false, false)))
            .collect())
    }

    /// One version with its content.
    pub async fn version(
        &self,
        scope: &FileScope,
        version: u64,
    ) -> Result<FileVersion, ServiceError> {
        let file_id = scope.id().as_str();
        let current = self.current(file_id).await?;
        if version == unsigned(current.version) {
            return Ok(current.listing(true, true));
        }
        Ok(self.stored(file_id, version).await?.listing(false, true))
    }

    /// What changed from version `from` to version `to` (default: the current one).
    pub async fn diff(
        &self,
        scope: &FileScope,
        from: u64,
        to: Option<u64>,
    ) -> Result<FileDiff, ServiceError> {
        let file_id = scope.id().as_str();
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
        store::current(&self.db, file_id)
            .await?
            .ok_or_else(|| not_found(file_id))
    }

    async fn stored(&self, file_id: &str, version: u64) -> Result<StoredVersion, ServiceError> {
        store::version(&self.db, file_id, version)
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(
                    "file_version",
                    format!("file {file_id:?} has no version {version}"),
                )
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
        match store::write_version(&self.db, file_id, seen, new, &principal.user_id).await {
            Ok(_) => {
                self.wake.notify_one();
                Ok(())
            }
            Err(error) if error.is_thrown(codes::STALE) => {
                Err(stale(&self.current(file_id).await?))
            }
            Err(error) if error.is_thrown(codes::NOT_FOUND) => Err(not_found(file_id)),
            Err(error) if error.is_unique(PATH_INDEX) => {
                Err(Conflict::NameTaken(format!("a file already exists at {:?}", new.path)).into())
            }
            Err(error) => Err(ServiceError::from(error)),
        }
    }

    async fn undelete(
        &self,
        file_id: &str,
        path: &str,
        principal: &Principal,
    ) -> Result<(), ServiceError> {
        store::undelete(&self.db, file_id, &principal.user_id)
            .await
            .map_err(|error| match error {
                error if error.is_thrown(codes::NOT_DELETED) => ServiceError::from(
                    Conflict::Concurrent("the file was restored meanwhile".into()),
                ),
                // A deleted file does not hold its path; another may have taken it.
                error if error.is_unique(PATH_INDEX) => ServiceError::from(Conflict::NameTaken(
                    format!("another file now has the path {path:?}: rename or delete that file, then restore this one"),
                )),
                error => error.into(),
            })?;
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
    Conflict::StaleVersion {
        current_version: unsigned(current.version),
        current_sha256: current.sha256.clone(),
    }
    .into()
}
