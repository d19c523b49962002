//! The timeline: what happened to a project, and across all of a user's projects.
//! Written only by its event subscriber; read with cursor pagination.

use kiln_types::{ApiError, EventType, Page, PageQuery, TimelineEvent};
use surrealdb::types::SurrealValue;

use crate::{
    ServiceError,
    access::require_project_owner,
    auth::Principal,
    db::Db,
    events::{DomainEvent, EventSubscriber, FileChange, HandlerFuture},
    pagination::{Key, PageRequest, SORT_KEY_FORMAT},
};

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct EventRow {
    id: String,
    event_type: String,
    project_id: String,
    actor_id: Option<String>,
    title: String,
    metadata: serde_json::Value,
    created_at: String,
    sort_key: String,
}

fn fields() -> String {
    format!(
        "record::id(id) AS id, type AS event_type, project_id, \
         IF actor != NONE THEN record::id(actor) ELSE NONE END AS actor_id, title, metadata, \
         time::format(created_at, '%Y-%m-%dT%H:%M:%S%.6fZ') AS created_at, \
         time::format(created_at, '{SORT_KEY_FORMAT}') AS sort_key"
    )
}

impl EventRow {
    fn into_keyed(self) -> (Key, TimelineEvent) {
        let key = Key {
            time: self.sort_key,
            id: self.id.clone(),
        };
        let event = TimelineEvent {
            id: self.id,
            event_type: EventType::parse(&self.event_type).unwrap_or(EventType::Other),
            project_id: self.project_id,
            actor_id: self.actor_id,
            title: self.title,
            metadata: self.metadata,
            created_at: self.created_at,
        };
        (key, event)
    }
}

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
        principal: &Principal,
        project_id: &str,
        query: &PageQuery,
    ) -> Result<Page<TimelineEvent>, ServiceError> {
        let project = require_project_owner(&self.db, principal, project_id).await?;
        self.page(
            "project = type::record('project', $scope)",
            project.id,
            query,
        )
        .await
    }

    /// Events of all the caller's projects (including deleted ones), newest first.
    pub async fn feed(
        &self,
        principal: &Principal,
        query: &PageQuery,
    ) -> Result<Page<TimelineEvent>, ServiceError> {
        self.page(
            "owner = type::record('user', $scope)",
            principal.user_id.clone(),
            query,
        )
        .await
    }

    async fn page(
        &self,
        scope: &str,
        scope_id: String,
        query: &PageQuery,
    ) -> Result<Page<TimelineEvent>, ServiceError> {
        let request = PageRequest::from_query(query)?;
        let types = type_filter(query)?;
        let (position, order, limit) = request.clauses("timeline_event", "created_at");
        let type_condition = if types.is_some() {
            "type IN $types"
        } else {
            "true"
        };
        let (cursor_time, cursor_id) = request.bindings();
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM timeline_event WHERE {scope} AND {type_condition} AND {position} {order} LIMIT {limit}",
                fields()
            ))
            .bind(("scope", scope_id))
            .bind(("types", types.unwrap_or_default()))
            .bind(("cursor_time", cursor_time))
            .bind(("cursor_id", cursor_id))
            .await?
            .check()?;
        let rows: Vec<EventRow> = response.take(0)?;
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
        };
        // A deleted project's record is gone; its deletion stays in the owner's feed.
        let exists = !matches!(event, DomainEvent::ProjectDeleted { .. });
        let title: String = title.chars().take(500).collect();
        self.db
            .query(
                "CREATE timeline_event CONTENT {
                     project: IF $exists THEN type::record('project', $project) ELSE NONE END,
                     project_id: $project,
                     owner: type::record('user', $owner),
                     actor: type::record('user', $actor),
                     type: $type, title: $title, metadata: $metadata
                 } RETURN NONE",
            )
            .bind(("exists", exists))
            .bind(("project", project.id.clone()))
            .bind(("owner", project.owner_id.clone()))
            .bind(("actor", actor.clone()))
            .bind(("type", kind.as_str().to_owned()))
            .bind(("title", title))
            .bind(("metadata", metadata))
            .await?
            .check()?;
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
