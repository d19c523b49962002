//! Authorization: the one rule every project-scoped call goes through, and the proofs
//! that carry its outcome.
//!
//! A project, and everything inside it, is readable and modifiable by its owner only.
//! [`project`] and [`file`] check that with one database read and return a scope —
//! the only way to get one, since its fields are private — which service methods take
//! instead of `(principal, id)`: holding a scope means the check was made, so nothing
//! re-reads ownership on the way down.

use kiln_types::{FileId, ProjectId, ProjectStatus};

use crate::{
    ServiceError,
    auth::Principal,
    db::Db,
    error::Conflict,
    events::ProjectRef,
    store::projects::{self as store, OwnerRow},
};

/// Proof that the caller owns a project, with what was read to prove it.
#[derive(Debug, Clone)]
pub struct ProjectScope {
    principal: Principal,
    id: ProjectId,
    name: String,
    status: ProjectStatus,
}

/// Proof that the caller owns the project a file belongs to.
#[derive(Debug, Clone)]
pub struct FileScope {
    project: ProjectScope,
    id: FileId,
}

impl ProjectScope {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn id(&self) -> &ProjectId {
        &self.id
    }

    /// The project's status when the scope was made.
    pub fn status(&self) -> ProjectStatus {
        self.status
    }

    /// The project as events describe it.
    pub fn reference(&self) -> ProjectRef {
        ProjectRef {
            id: self.id.to_string(),
            name: self.name.clone(),
            owner_id: self.principal.user_id.clone(),
        }
    }

    /// Archived projects are read-only: a change to one is a 409 `archived`.
    pub fn require_writable(&self) -> Result<(), ServiceError> {
        if self.status == ProjectStatus::Archived {
            return Err(Conflict::Archived(
                "the project is archived: restore it to change its files".into(),
            )
            .into());
        }
        Ok(())
    }
}

impl FileScope {
    pub fn principal(&self) -> &Principal {
        &self.project.principal
    }

    pub fn id(&self) -> &FileId {
        &self.id
    }

    pub fn project(&self) -> &ProjectScope {
        &self.project
    }
}

/// The caller's project `project_id`. Unknown project → 404; someone else's → 403.
/// (Anonymous callers never get here: it takes a [`Principal`].)
pub async fn project(
    db: &Db,
    principal: &Principal,
    project_id: &str,
) -> Result<ProjectScope, ServiceError> {
    let row = store::owner(db, project_id).await?.ok_or_else(|| {
        ServiceError::not_found("project", format!("no project with id {project_id:?}"))
    })?;
    scope(principal, row, "this project belongs to another account")
}

/// The caller's file `file_id`, with its project. Unknown file → 404; a file of
/// someone else's project → 403.
pub async fn file(
    db: &Db,
    principal: &Principal,
    file_id: &str,
) -> Result<FileScope, ServiceError> {
    let row = store::owner_of_file(db, file_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("file", format!("no file with id {file_id:?}")))?;
    Ok(FileScope {
        project: scope(
            principal,
            row,
            "this file belongs to another account's project",
        )?,
        id: FileId::new(file_id),
    })
}

fn scope(
    principal: &Principal,
    row: OwnerRow,
    refusal: &str,
) -> Result<ProjectScope, ServiceError> {
    if row.owner_id.as_deref() != Some(principal.user_id.as_str()) {
        tracing::info!(user = %principal.user_id, project = %row.project_id, "project access refused");
        return Err(ServiceError::Forbidden(refusal.into()));
    }
    Ok(ProjectScope {
        principal: principal.clone(),
        id: ProjectId::new(row.project_id),
        name: row.name,
        // An unreadable status is treated as read-only, never as writable.
        status: ProjectStatus::parse(&row.status).unwrap_or(ProjectStatus::Archived),
    })
}

/// Installation-wide settings (plugins, registration) are for administrators only.
pub fn require_admin(principal: &Principal) -> Result<(), ServiceError> {
    if principal.is_admin {
        Ok(())
    } else {
        tracing::info!(user = %principal.user_id, "administrator route refused");
        Err(ServiceError::Forbidden(
            "only an administrator of this installation may do this".into(),
        ))
    }
}
