//! Uploads: many files (or archives of a folder) into a project in one request.

use std::collections::HashSet;

use kiln_types::{UploadOutcome, UploadReport, UploadedFile};

use super::{
    FileService, NewContent, PATH_INDEX, archive, normalize_path, path::is_os_metadata, store,
};
use crate::{ServiceError, access::ProjectScope, events::DomainEvent, store::files::PutResult};

/// One uploaded file: its name (the path inside the project) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// An upload's files, checked: `(path, bytes)` to store, and `(name, size)` of the
/// operating-system metadata set aside.
struct Checked {
    files: Vec<(String, Vec<u8>)>,
    skipped: Vec<(String, u64)>,
}

/// How often an upload that lost a race for a new path is tried again.
const WRITE_ATTEMPTS: u32 = 3;

impl FileService {
    /// Stores `files` in the project: archives are expanded, every path is checked
    /// before anything is written, and each file is then created, updated (a new
    /// version) or recognised as a duplicate by its sha256.
    pub async fn upload(
        &self,
        scope: &ProjectScope,
        files: Vec<IncomingFile>,
    ) -> Result<UploadReport, ServiceError> {
        scope.require_writable()?;
        let (principal, project_id) = (scope.principal(), scope.id().as_str());
        let project = scope.reference();
        let Checked { files, skipped } = self.checked(files)?;
        let mut report = UploadReport::default();
        for (name, size) in skipped {
            report.push(UploadedFile {
                path: name,
                outcome: UploadOutcome::Skipped,
                file_id: None,
                version: None,
                sha256: String::new(),
                size,
                binary: false,
                note: Some(
                    "operating-system metadata (Finder, Explorer, trash folders), not stored"
                        .into(),
                ),
            });
        }
        for (path, bytes) in files {
            let new = NewContent::read(path, bytes);
            if new.binary && !self.settings.store_binary {
                report.push(UploadedFile {
                    outcome: UploadOutcome::Refused,
                    file_id: None,
                    version: None,
                    note: Some("binary files are not accepted by this installation".into()),
                    ..uploaded(&new)
                });
                continue;
            }
            let result = self.put(project_id, &principal.user_id, &new).await?;
            let outcome = match result.outcome.as_str() {
                "created" => UploadOutcome::Created,
                "updated" => UploadOutcome::Updated,
                _ => UploadOutcome::Duplicate,
            };
            report.push(UploadedFile {
                outcome,
                file_id: Some(result.id),
                version: u64::try_from(result.version).ok(),
                ..uploaded(&new)
            });
        }
        if report.created + report.updated > 0 {
            self.wake.notify_one();
            let changed = |outcome| {
                report
                    .files
                    .iter()
                    .filter(move |file| file.outcome == outcome)
                    .map(|file| file.path.clone())
                    .collect()
            };
            self.events
                .publish(DomainEvent::FilesUploaded {
                    project,
                    actor_id: principal.user_id.clone(),
                    created: changed(UploadOutcome::Created),
                    updated: changed(UploadOutcome::Updated),
                })
                .await;
        }
        Ok(report)
    }

    /// Expands archives, sets operating-system metadata aside and normalises every other
    /// path; refuses the whole upload (before anything is written) when a name is
    /// unsafe, a path comes twice, or a limit is exceeded.
    fn checked(&self, files: Vec<IncomingFile>) -> Result<Checked, ServiceError> {
        if files.is_empty() {
            return Err(ServiceError::invalid_field(
                "files",
                "send at least one file",
            ));
        }
        let limits = &self.settings;
        let mut expanded = Vec::new();
        let mut total: u64 = 0;
        for file in files {
            let entries = if archive::is_archive(&file.name) {
                archive::expand(&file.name, &file.bytes, limits)?
            } else {
                vec![file]
            };
            for entry in entries {
                let size = u64::try_from(entry.bytes.len()).unwrap_or(u64::MAX);
                if size > limits.max_file_bytes {
                    return Err(limits.file_too_large(&entry.name));
                }
                total = total.saturating_add(size);
                if total > limits.max_request_bytes {
                    return Err(limits.upload_too_large());
                }
                expanded.push(entry);
            }
        }
        let (junk, expanded): (Vec<_>, Vec<_>) = expanded
            .into_iter()
            .partition(|file| is_os_metadata(&file.name));
        let skipped = junk
            .into_iter()
            .map(|file| {
                (
                    file.name,
                    u64::try_from(file.bytes.len()).unwrap_or(u64::MAX),
                )
            })
            .collect();
        let mut seen = HashSet::new();
        let kept = expanded
            .into_iter()
            .map(|file| {
                let path = normalize_path("files", &file.name)?;
                if !seen.insert(path.clone()) {
                    return Err(ServiceError::invalid_field(
                        "files",
                        format!("the path {path:?} is given twice"),
                    ));
                }
                Ok((path, file.bytes))
            })
            .collect::<Result<_, ServiceError>>()?;
        Ok(Checked {
            files: kept,
            skipped,
        })
    }

    /// `fn::put_file` in a transaction. Two uploads of a new path at once: the loser's
    /// insert hits the path index and runs again, now as an update of the winner's file.
    async fn put(
        &self,
        project_id: &str,
        user_id: &str,
        new: &NewContent,
    ) -> Result<PutResult, ServiceError> {
        let mut attempt = 1;
        loop {
            match store::put(&self.db, project_id, user_id, new).await {
                Ok(result) => {
                    return result.ok_or_else(|| {
                        ServiceError::Internal("fn::put_file returned nothing".into())
                    });
                }
                Err(error) if error.is_unique(PATH_INDEX) && attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(attempt, "upload raced another write; retrying");
                    attempt += 1;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}

fn uploaded(new: &NewContent) -> UploadedFile {
    UploadedFile {
        path: new.path.clone(),
        outcome: UploadOutcome::Duplicate,
        file_id: None,
        version: None,
        sha256: new.sha256.clone(),
        size: u64::try_from(new.size).unwrap_or(0),
        binary: new.binary,
        note: new.note.clone(),
    }
}
