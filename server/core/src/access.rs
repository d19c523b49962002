//! Authorization: the one rule every project-scoped call goes through, and the proofs
//! that carry its outcome.
//!
//! A project, and everything inside it, is readable and modifiable by its owner only.
//! [`project`] and [`file`] check that with one database read and return a scope —
//! the only way to get one, since its fields are private — which service methods take
//! instead of `(principal, id)`: holding a scope means the check was made, so nothing
//! re-reads ownership on the way down.

use kiln_types::{FileId, MessageId, MessageRole, ProjectId, ProjectStatus, ThreadId};

use crate::{
    ServiceError,
    auth::Principal,
    db::Db,
    error::Conflict,
    events::ProjectRef,
    store::{
        chat::{self as chat_store, ThreadOwnerRow},
        projects::{self as store, OwnerRow},
    },
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

/// Proof that the caller owns the project a chat thread belongs to.
#[derive(Debug, Clone)]
pub struct ThreadScope {
    project: ProjectScope,
    id: ThreadId,
    archived: bool,
}

/// Proof that the caller may read a message (it is in a thread they may read), with
/// who wrote it.
#[derive(Debug, Clone)]
pub struct MessageScope {
    thread: ThreadScope,
    id: MessageId,
    role: MessageRole,
    author_id: Option<String>,
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
                "the project is archived: restore it to change anything in it".into(),
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

impl ThreadScope {
    pub fn principal(&self) -> &Principal {
        &self.project.principal
    }

    pub fn id(&self) -> &ThreadId {
        &self.id
    }

    pub fn project(&self) -> &ProjectScope {
        &self.project
    }

    /// Archived threads, and every thread of an archived project, are read-only: a
    /// change is a 409 `archived`.
    pub fn require_writable(&self) -> Result<(), ServiceError> {
        self.project.require_writable()?;
        if self.archived {
            return Err(Conflict::Archived(
                "the thread is archived: un-archive it to change it".into(),
            )
            .into());
        }
        Ok(())
    }
}

impl MessageScope {
    pub fn id(&self) -> &MessageId {
        &self.id
    }

    pub fn thread(&self) -> &ThreadScope {
        &self.thread
    }

    pub fn role(&self) -> MessageRole {
        self.role
    }

    /// Only the author of a message may edit or delete it (so never an assistant
    /// reply): anyone else gets a 403.
    pub fn require_author(&self) -> Result<(), ServiceError> {
        if self.author_id.as_deref() == Some(self.thread.principal().user_id.as_str()) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(
                "only the author of a message may change it".into(),
            ))
        }
    }
}

/// The caller's thread `thread_id`: the one check every chat route and every
/// WebSocket upgrade makes. Unknown thread → 404; a thread of someone else's project
/// → 403.
pub async fn thread_accessible(
    db: &Db,
    principal: &Principal,
    thread_id: &str,
) -> Result<ThreadScope, ServiceError> {
    let row = chat_store::thread_owner(db, thread_id)
        .await?
        .ok_or_else(|| {
            ServiceError::not_found(
                "thread",
                format!("no thread with id {thread_id:?} (it may have been deleted)"),
            )
        })?;
    thread_scope(principal, row)
}

/// The message `message_id`, in a thread the caller may read. Unknown → 404; in
/// someone else's project → 403.
pub async fn message(
    db: &Db,
    principal: &Principal,
    message_id: &str,
) -> Result<MessageScope, ServiceError> {
    let row = chat_store::message_owner(db, message_id)
        .await?
        .ok_or_else(|| {
            ServiceError::not_found("message", format!("no message with id {message_id:?}"))
        })?;
    let role = if row.role.as_deref() == Some("assistant") {
        MessageRole::Assistant
    } else {
        MessageRole::User
    };
    let author_id = row.author_id.clone();
    Ok(MessageScope {
        thread: thread_scope(principal, row)?,
        id: MessageId::new(message_id),
        role,
        author_id,
    })
}

/// The message `message_id` of the thread `thread` (a WebSocket names messages of the
/// thread it is open on): 404 for a message of another thread, as for one that does
/// not exist, so ids of other threads cannot be probed.
pub async fn message_in(
    db: &Db,
    thread: &ThreadScope,
    message_id: &str,
) -> Result<MessageScope, ServiceError> {
    let message = message(db, thread.principal(), message_id).await?;
    if message.thread().id() != thread.id() {
        return Err(ServiceError::not_found(
            "message",
            "no such message in this thread",
        ));
    }
    Ok(message)
}

fn thread_scope(principal: &Principal, row: ThreadOwnerRow) -> Result<ThreadScope, ServiceError> {
    let archived = row.archived;
    let id = ThreadId::new(row.thread_id.clone());
    let project = scope(
        principal,
        OwnerRow {
            project_id: row.project_id,
            owner_id: row.owner_id,
            name: row.name,
            status: row.status,
        },
        "this thread belongs to another account's project",
    )?;
    Ok(ThreadScope {
        project,
        id,
        archived,
    })
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
