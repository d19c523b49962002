//! The `project` table: what project queries return, and every statement on it.

use kiln_types::{Project, ProjectSettings, ProjectStats, ProjectStatus};
use surrealdb::types::SurrealValue;

use super::{
    DbError, TIME_FORMAT,
    pagination::{Key, PageRequest, SORT_KEY_FORMAT},
};
use crate::{db::Db, events::ProjectRef};

/// The UNIQUE index that keeps project names unique per owner.
pub(crate) const NAME_INDEX: &str = "project_owner_name";

/// The columns every project query returns, flattened, with ids and times as strings.
fn fields() -> String {
    format!(
        "record::id(id) AS id, record::id(owner) AS owner_id, name, description, status, \
         settings.model AS model, settings.instructions ?? '' AS instructions, \
         stats.file_count ?? 0 AS file_count, stats.total_bytes ?? 0 AS total_bytes, \
         stats.total_lines ?? 0 AS total_lines, stats.languages ?? {{}} AS languages, \
         stats.thread_count ?? 0 AS thread_count, stats.message_count ?? 0 AS message_count, \
         IF stats.last_chat_at != NONE THEN time::format(stats.last_chat_at, '{TIME_FORMAT}') ELSE NONE END AS last_chat_at, \
         time::format(created_at, '{TIME_FORMAT}') AS created_at, \
         time::format(last_activity_at, '{TIME_FORMAT}') AS last_activity_at, \
         time::format(last_activity_at, '{SORT_KEY_FORMAT}') AS sort_key"
    )
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct ProjectRow {
    pub(crate) id: String,
    pub(crate) owner_id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) status: String,
    pub(crate) model: Option<String>,
    pub(crate) instructions: String,
    pub(crate) file_count: i64,
    pub(crate) total_bytes: i64,
    pub(crate) total_lines: i64,
    pub(crate) languages: serde_json::Value,
    pub(crate) thread_count: i64,
    pub(crate) message_count: i64,
    pub(crate) last_chat_at: Option<String>,
    pub(crate) created_at: String,
    pub(crate) last_activity_at: String,
    pub(crate) sort_key: String,
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl ProjectRow {
    pub(crate) fn reference(&self) -> ProjectRef {
        ProjectRef {
            id: self.id.clone(),
            name: self.name.clone(),
            owner_id: self.owner_id.clone(),
        }
    }

    pub(crate) fn into_keyed(self) -> (Key, Project) {
        let key = Key {
            time: self.sort_key.clone(),
            id: self.id.clone(),
        };
        (key, self.into())
    }
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        let languages = row
            .languages
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(language, files)| (language.clone(), files.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        Project {
            id: row.id,
            name: row.name,
            description: row.description,
            status: ProjectStatus::parse(&row.status).unwrap_or(ProjectStatus::Active),
            settings: ProjectSettings {
                model: row.model,
                instructions: row.instructions,
            },
            stats: ProjectStats {
                file_count: count(row.file_count),
                total_bytes: count(row.total_bytes),
                total_lines: count(row.total_lines),
                languages,
                thread_count: count(row.thread_count),
                message_count: count(row.message_count),
                last_chat_at: row.last_chat_at,
            },
            created_at: row.created_at,
            last_activity_at: row.last_activity_at,
        }
    }
}

/// Who owns a project (or the project of a file), read once for an access check.
#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct OwnerRow {
    pub(crate) project_id: String,
    pub(crate) owner_id: Option<String>,
    pub(crate) name: String,
    pub(crate) status: String,
}

/// The owner row of project `id`.
pub(crate) async fn owner(db: &Db, id: &str) -> Result<Option<OwnerRow>, DbError> {
    let mut response = db
        .query(
            "SELECT record::id(id) AS project_id, record::id(owner) AS owner_id, name, status
             FROM ONLY type::record('project', $id)",
        )
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// The owner row of the project file `file_id` belongs to.
pub(crate) async fn owner_of_file(db: &Db, file_id: &str) -> Result<Option<OwnerRow>, DbError> {
    let mut response = db
        .query(
            "SELECT record::id(project) AS project_id, record::id(project.owner) AS owner_id,
                    project.name AS name, project.status AS status
             FROM ONLY type::record('file', $id)",
        )
        .bind(("id", file_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// A page of `owner`'s projects, most recently active first (one extra row: see
/// [`PageRequest::finish`]).
pub(crate) async fn list(
    db: &Db,
    owner: &str,
    request: &PageRequest,
) -> Result<Vec<ProjectRow>, DbError> {
    let (position, order, limit) = request.clauses("project", "last_activity_at");
    let (cursor_time, cursor_id) = request.bindings();
    let mut response = db
        .query(format!(
            "SELECT {} FROM project WHERE owner = type::record('user', $owner) AND {position} {order} LIMIT {limit}",
            fields()
        ))
        .bind(("owner", owner.to_owned()))
        .bind(("cursor_time", cursor_time))
        .bind(("cursor_id", cursor_id))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

pub(crate) async fn get(db: &Db, id: &str) -> Result<Option<ProjectRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM ONLY type::record('project', $id)",
            fields()
        ))
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// Creates a project; a name the owner already uses is [`DbError::Unique`] on
/// [`NAME_INDEX`].
pub(crate) async fn create(
    db: &Db,
    owner: &str,
    name: &str,
    description: &str,
) -> Result<Option<ProjectRow>, DbError> {
    let mut response = db
        .query(format!(
            "LET $created = (CREATE ONLY project CONTENT {{
                 name: $name, description: $description, owner: type::record('user', $owner)
             }});
             SELECT {} FROM ONLY $created.id;",
            fields()
        ))
        .bind(("owner", owner.to_owned()))
        .bind(("name", name.to_owned()))
        .bind(("description", description.to_owned()))
        .await?
        .check()?;
    Ok(response.take(1)?)
}

/// One changed field: its column (`name`, `settings.model`, …) and its new value
/// (`None` unsets it).
pub(crate) type FieldUpdate = (&'static str, Option<serde_json::Value>);

/// Writes `changes` and marks the project active now; a clashing name is
/// [`DbError::Unique`] on [`NAME_INDEX`].
pub(crate) async fn update(
    db: &Db,
    id: &str,
    changes: &[FieldUpdate],
) -> Result<Option<ProjectRow>, DbError> {
    let mut sets = Vec::new();
    let mut values = serde_json::Map::new();
    for (index, (column, value)) in changes.iter().enumerate() {
        match value {
            // JSON null would be stored as NULL; an unset option is NONE.
            None => sets.push(format!("{column} = NONE")),
            Some(value) => {
                sets.push(format!("{column} = $values.v{index}"));
                values.insert(format!("v{index}"), value.clone());
            }
        }
    }
    let mut response = db
        .query(format!(
            "UPDATE type::record('project', $id) SET {},
                 updated_at = time::now(), last_activity_at = time::now() RETURN NONE;
             SELECT {} FROM ONLY type::record('project', $id);",
            sets.join(", "),
            fields()
        ))
        .bind(("id", id.to_owned()))
        .bind(("values", serde_json::Value::Object(values)))
        .await?
        .check()?;
    Ok(response.take(1)?)
}

/// Moves the project from status `from` to `to`; `None` when its status was no longer
/// `from` (a concurrent change won).
pub(crate) async fn change_status(
    db: &Db,
    id: &str,
    from: ProjectStatus,
    to: ProjectStatus,
) -> Result<Option<ProjectRow>, DbError> {
    let mut response = db
        .query(format!(
            "LET $moved = (UPDATE type::record('project', $id) SET status = $to,
                 updated_at = time::now(), last_activity_at = time::now()
                 WHERE status = $from RETURN VALUE id);
             IF array::len($moved) > 0 {{ (SELECT {} FROM ONLY type::record('project', $id)) }};",
            fields()
        ))
        .bind(("id", id.to_owned()))
        .bind(("from", from.as_str().to_owned()))
        .bind(("to", to.as_str().to_owned()))
        .await?
        .check()?;
    Ok(response.take(1)?)
}

/// Deletes the project (and through the cascades everything in it); `false` when it
/// was already gone.
pub(crate) async fn delete(db: &Db, id: &str) -> Result<bool, DbError> {
    let mut response = db
        .query("DELETE type::record('project', $id) RETURN BEFORE")
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    let deleted: Vec<surrealdb::types::Value> = response.take(0)?;
    Ok(!deleted.is_empty())
}
