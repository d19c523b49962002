//! Uploads: many files (or archives of a folder) into a project in one request.

use std::collections::HashSet;

use kiln_types::{ApiError, UploadOutcome, UploadReport, UploadedFile};
use surrealdb::types::SurrealValue;

use super::{FileService, NewContent, archive, normalize_path};
use crate::{ServiceError, auth::Principal, events::DomainEvent};

/// One uploaded file: its name (the path inside the project) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct PutResult {
    outcome: String,
    id: String,
    version: i64,
}

/// How often a write that lost a race with another is tried again.
pub(super) const WRITE_ATTEMPTS: u32 = 5;

impl FileService {
    /// Stores `files` in the project: archives are expanded, every path is checked
    /// before anything is written, and each file is then created, updated (a new
    /// version) or recognised as a duplicate by its sha256.
    pub async fn upload(
        &self,
        principal: &Principal,
        project_id: &str,
        files: Vec<IncomingFile>,
    ) -> Result<UploadReport, ServiceError> {
        let project = self.writable_project(principal, project_id).await?;
        let files = self.checked(files)?;
        let mut report = UploadReport::default();
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

    /// Expands archives and normalises every path; refuses the whole upload (before
    /// anything is written) when a name is unsafe, a path comes twice, or a limit is
    /// exceeded.
    fn checked(&self, files: Vec<IncomingFile>) -> Result<Vec<(String, Vec<u8>)>, ServiceError> {
        if files.is_empty() {
            return Err(ApiError::invalid_field("files", "send at least one file").into());
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
                    return Err(limits.file_too_large(&entry.name).into());
                }
                total = total.saturating_add(size);
                if total > limits.max_request_bytes {
                    return Err(limits.upload_too_large().into());
                }
                expanded.push(entry);
            }
        }
        let mut seen = HashSet::new();
        expanded
            .into_iter()
            .map(|file| {
                let path = normalize_path("files", &file.name)?;
                if !seen.insert(path.clone()) {
                    return Err(ApiError::invalid_field(
                        "files",
                        format!("the path {path:?} is given twice"),
                    )
                    .into());
                }
                Ok((path, file.bytes))
            })
            .collect()
    }

    /// `fn::put_file` in a transaction, tried again when it raced another writer.
    async fn put(
        &self,
        project_id: &str,
        user_id: &str,
        new: &NewContent,
    ) -> Result<PutResult, ServiceError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut response = self
                .db
                .query(
                    "BEGIN TRANSACTION;
                     RETURN fn::put_file(type::record('project', $project), $new, type::record('user', $user));
                     COMMIT TRANSACTION;",
                )
                .bind(("project", project_id.to_owned()))
                .bind(("user", user_id.to_owned()))
                .bind(("new", new.clone()))
                .await?;
            let errors = response.take_errors();
            if errors.is_empty() {
                // BEGIN counts as a statement: the RETURN is the second.
                let result: Option<PutResult> = response.take(1)?;
                return result
                    .ok_or_else(|| ServiceError::Internal("fn::put_file returned nothing".into()));
            }
            let retry = errors
                .values()
                .any(|e| e.message().contains("can be retried"))
                || errors
                    .values()
                    .any(|e| e.message().contains("file_project_path"));
            if !(retry && attempt < WRITE_ATTEMPTS) {
                let detail: Vec<String> = errors.values().map(ToString::to_string).collect();
                return Err(ServiceError::Internal(format!(
                    "upload failed: {}",
                    detail.join("; ")
                )));
            }
            tracing::debug!(attempt, path = %new.path, "upload raced another write; retrying");
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
