//! The `timeline_event` table: a page of events, and recording one.

use kiln_types::{EventType, TimelineEvent};
use surrealdb::types::SurrealValue;

use super::{
    DbError, TIME_FORMAT,
    pagination::{Key, PageRequest, SORT_KEY_FORMAT},
};
use crate::db::Db;

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct EventRow {
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
         time::format(created_at, '{TIME_FORMAT}') AS created_at, \
         time::format(created_at, '{SORT_KEY_FORMAT}') AS sort_key"
    )
}

impl EventRow {
    pub(crate) fn into_keyed(self) -> (Key, TimelineEvent) {
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

/// Whose events a page shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    Project(&'a str),
    Owner(&'a str),
}

/// A page of events, newest first, of the kinds in `types` (all when `None`).
pub(crate) async fn page(
    db: &Db,
    scope: Scope<'_>,
    types: Option<Vec<String>>,
    request: &PageRequest,
) -> Result<Vec<EventRow>, DbError> {
    let (scope_condition, scope_id) = match scope {
        Scope::Project(id) => ("project = type::record('project', $scope)", id),
        Scope::Owner(id) => ("owner = type::record('user', $scope)", id),
    };
    let (position, order, limit) = request.clauses("timeline_event", "created_at");
    let type_condition = if types.is_some() {
        "type IN $types"
    } else {
        "true"
    };
    let (cursor_time, cursor_id) = request.bindings();
    let mut response = db
        .query(format!(
            "SELECT {} FROM timeline_event WHERE {scope_condition} AND {type_condition} AND {position} {order} LIMIT {limit}",
            fields()
        ))
        .bind(("scope", scope_id.to_owned()))
        .bind(("types", types.unwrap_or_default()))
        .bind(("cursor_time", cursor_time))
        .bind(("cursor_id", cursor_id))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// One event to record.
pub(crate) struct NewEvent {
    /// The project it is about; `None` once the project is deleted.
    pub(crate) project: Option<String>,
    pub(crate) project_id: String,
    pub(crate) owner_id: String,
    pub(crate) actor_id: String,
    pub(crate) kind: EventType,
    /// At most 500 characters.
    pub(crate) title: String,
    pub(crate) metadata: serde_json::Value,
}

pub(crate) async fn record(db: &Db, event: NewEvent) -> Result<(), DbError> {
    db.query(
        "CREATE timeline_event CONTENT {
             project: IF $exists THEN type::record('project', $project) ELSE NONE END,
             project_id: $project,
             owner: type::record('user', $owner),
             actor: type::record('user', $actor),
             type: $type, title: $title, metadata: $metadata
         } RETURN NONE",
    )
    .bind(("exists", event.project.is_some()))
    .bind(("project", event.project_id))
    .bind(("owner", event.owner_id))
    .bind(("actor", event.actor_id))
    .bind(("type", event.kind.as_str().to_owned()))
    .bind(("title", event.title))
    .bind(("metadata", event.metadata))
    .await?
    .check()?;
    Ok(())
}
