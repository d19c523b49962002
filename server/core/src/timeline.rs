//! The timeline: what happened to a project, and across all of a user's projects.
//! Written only by its event subscriber; read with cursor pagination.

use kiln_types::{ApiError, EventType, Page, PageQuery, TimelineEvent};

use crate::{
    ServiceError,
    access::ProjectScope,
    auth::Principal,
    db::Db,
    events::{DomainEvent, EventSubscriber, FileChange, HandlerFuture},
    pagination::PageRequest,
    store::timeline::{self as store, EventRow},
};

/// `?type=a,b` → the known types named; an unknown one is a 422.
fn type_filter(query: &PageQuery) -> Result<Option<Vec<String>>, ApiError> {
    let Some(list) = query
        .event_type
        .as_deref()
        .filter(|list| !list.trim().is_empty())
    else {
        return Ok(None);
    };
    list.split(',')
        .map(|name| {
            EventType::parse(name.trim())
                .map(|kind| kind.as_str().to_owned())
                .ok_or_else(|| {
                    ApiError::invalid_field("type", format!("unknown event type {name:?}"))
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Paths named in an upload's timeline entry.
const MAX_LISTED_PATHS: usize = 20;

/// `Uploaded src/main.rs`, `Uploaded 12 files (3 updated)`.
fn upload_title(created: &[String], updated: &[String]) -> String {
    match (created, updated) {
        ([only], []) => format!("Uploaded {only}"),
        ([], [only]) => format!("Uploaded a new version of {only}"),
        _ => {
            let total = created.len() + updated.len();
            if updated.is_empty() {
                format!("Uploaded {total} files")
            } else {
                format!("Uploaded {total} files ({} updated)", updated.len())
            }
        }
    }
}

#[derive(Clone)]
pub struct TimelineService {
    db: Db,
}

impl TimelineService {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// One project's events, newest first.
    pub async fn for_project(
        &self,
        scope: &ProjectScope,
        query: &PageQuery,
    ) -> Result<Page<TimelineEvent>, ServiceError> {
        self.page(store::Scope::Project(scope.id().as_str()), query)
            .await
    }

    /// Events of all the caller's projects (including deleted ones), newest first.
    pub async fn feed(
        &self,
        principal: &Principal,
        query: &PageQuery,
    ) -> Result<Page<TimelineEvent>, ServiceError> {
        self.page(store::Scope::Owner(&principal.user_id), query)
            .await
    }

    async fn page(
        &self,
        scope: store::Scope<'_>,
        query: &PageQuery,
    ) -> Result<Page<TimelineEvent>, ServiceError> {
        let request = PageRequest::from_query(query)?;
        let types = type_filter(query)?;
        let rows = store::page(&self.db, scope, types, &request).await?;
        Ok(request.finish(rows.into_iter().map(EventRow::into_keyed).collect()))
    }

    async fn record(&self, event: &DomainEvent) -> Result<(), ServiceError> {
        let project = event.project();
        let (kind, title, metadata, actor) = match event {
            DomainEvent::ProjectCreated { actor_id, .. } => (
                EventType::ProjectCreated,
                format!("Project \"{}\" created", project.name),
                serde_json::json!({ "name": project.name }),
                actor_id,
            ),
            DomainEvent::ProjectUpdated {
                actor_id, changes, ..
            } => {
                let fields: Vec<&str> = changes.keys().map(String::as_str).collect();
                (
                    EventType::ProjectUpdated,
                    format!("Project updated: {}", fields.join(", ")),
                    serde_json::json!({ "changes": changes }),
                    actor_id,
                )
            }
            DomainEvent::StatusChanged {
                actor_id, from, to, ..
            } => (
                EventType::StatusChanged,
                format!("Status changed from {} to {}", from.as_str(), to.as_str()),
                serde_json::json!({ "from": from.as_str(), "to": to.as_str() }),
                actor_id,
            ),
            DomainEvent::ProjectDeleted { actor_id, .. } => (
                EventType::ProjectDeleted,
                format!("Project \"{}\" deleted", project.name),
                serde_json::json!({ "name": project.name }),
                actor_id,
            ),
            DomainEvent::FilesUploaded {
                actor_id,
                created,
                updated,
                ..
            } => (
                EventType::FileUploaded,
                upload_title(created, updated),
                serde_json::json!({
                    "created": created.len(), "updated": updated.len(),
                    // Enough to show; the counts say how many there were.
                    "paths": created.iter().chain(updated).take(MAX_LISTED_PATHS).collect::<Vec<_>>(),
                }),
                actor_id,
            ),
            DomainEvent::FileUpdated {
                actor_id,
                file_id,
                path,
                version,
                change,
                ..
            } => {
                let (title, detail) = match change {
                    FileChange::Edited => (format!("Edited {path}"), serde_json::json!({})),
                    FileChange::Renamed { from } => (
                        format!("Renamed {from} to {path}"),
                        serde_json::json!({ "renamed_from": from }),
                    ),
                    FileChange::Restored { version } => (
                        format!("Restored {path} to version {version}"),
                        serde_json::json!({ "restored_version": version }),
                    ),
                    FileChange::Undeleted => (
                        format!("Restored deleted {path}"),
                        serde_json::json!({ "undeleted": true }),
                    ),
                };
                let mut metadata =
                    serde_json::json!({ "file_id": file_id, "path": path, "version": version });
                if let (Some(metadata), Some(detail)) =
                    (metadata.as_object_mut(), detail.as_object())
                {
                    metadata.extend(detail.clone());
                }
                (EventType::FileUpdated, title, metadata, actor_id)
            }
            DomainEvent::FileDeleted {
                actor_id,
                file_id,
                path,
                ..
            } => (
                EventType::FileDeleted,
                format!("Deleted {path}"),
                serde_json::json!({ "file_id": file_id, "path": path }),
                actor_id,
            ),
            DomainEvent::ThreadCreated {
                actor_id,
                thread_id,
                title,
                ..
            } => (
                EventType::ThreadCreated,
                format!("Chat \"{title}\" started"),
                serde_json::json!({ "thread_id": thread_id, "title": title }),
                actor_id,
            ),
            DomainEvent::ThreadArchived {
                actor_id,
                thread_id,
                title,
                archived,
                ..
            } => (
                EventType::ThreadArchived,
                if *archived {
                    format!("Chat \"{title}\" archived")
                } else {
                    format!("Chat \"{title}\" un-archived")
                },
                serde_json::json!({ "thread_id": thread_id, "title": title, "archived": archived }),
                actor_id,
            ),
            DomainEvent::ThreadDeleted {
                actor_id,
                thread_id,
                title,
                ..
            } => (
                EventType::ThreadDeleted,
                format!("Chat \"{title}\" deleted"),
                serde_json::json!({ "thread_id": thread_id, "title": title }),
                actor_id,
            ),
        };
        // A deleted project's record is gone; its deletion stays in the owner's feed.
        let exists = !matches!(event, DomainEvent::ProjectDeleted { .. });
        store::record(
            &self.db,
            store::NewEvent {
                project: exists.then(|| project.id.clone()),
                project_id: project.id.clone(),
                owner_id: project.owner_id.clone(),
                actor_id: actor.clone(),
                kind,
                title: title.chars().take(500).collect(),
                metadata,
            },
        )
        .await?;
        Ok(())
    }
}

impl EventSubscriber for TimelineService {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn handle<'a>(&'a self, event: &'a DomainEvent) -> HandlerFuture<'a> {
        Box::pin(self.record(event))
    }
}
