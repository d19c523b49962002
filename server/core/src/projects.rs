//! Projects: the home of everything a user puts into Kiln.

use kiln_types::{
    NewProject, Page, Project, ProjectPatch, ProjectSettings, ProjectStats, ProjectStatus,
};
use serde_json::json;
use surrealdb::types::SurrealValue;

use crate::{
    ServiceError,
    access::require_project_owner,
    auth::Principal,
    db::Db,
    events::{DomainEvent, EventDispatcher, FieldChanges, ProjectRef},
    pagination::{Key, PageRequest, SORT_KEY_FORMAT},
};

/// Display times: microseconds, UTC.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

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
struct ProjectRow {
    id: String,
    owner_id: String,
    name: String,
    description: String,
    status: String,
    model: Option<String>,
    instructions: String,
    file_count: i64,
    total_bytes: i64,
    total_lines: i64,
    languages: serde_json::Value,
    thread_count: i64,
    message_count: i64,
    last_chat_at: Option<String>,
    created_at: String,
    last_activity_at: String,
    sort_key: String,
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl ProjectRow {
    fn reference(&self) -> ProjectRef {
        ProjectRef {
            id: self.id.clone(),
            name: self.name.clone(),
            owner_id: self.owner_id.clone(),
        }
    }

    fn into_keyed(self) -> (Key, Project) {
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

fn duplicate_name(name: &str) -> ServiceError {
    ServiceError::Conflict(format!("a project named \"{name}\" already exists"))
}

#[derive(Clone)]
pub struct ProjectService {
    db: Db,
    events: EventDispatcher,
}

impl ProjectService {
    pub fn new(db: Db, events: EventDispatcher) -> Self {
        Self { db, events }
    }

    /// The caller's projects, most recently active first.
    pub async fn list(
        &self,
        principal: &Principal,
        request: &PageRequest,
    ) -> Result<Page<Project>, ServiceError> {
        let (position, order, limit) = request.clauses("project", "last_activity_at");
        let (cursor_time, cursor_id) = request.bindings();
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM project WHERE owner = type::record('user', $owner) AND {position} {order} LIMIT {limit}",
                fields()
            ))
            .bind(("owner", principal.user_id.clone()))
            .bind(("cursor_time", cursor_time))
            .bind(("cursor_id", cursor_id))
            .await?
            .check()?;
        let rows: Vec<ProjectRow> = response.take(0)?;
        Ok(request.finish(rows.into_iter().map(ProjectRow::into_keyed).collect()))
    }

    pub async fn get(&self, principal: &Principal, id: &str) -> Result<Project, ServiceError> {
        Ok(self.row(principal, id).await?.into())
    }

    /// The project's counters: one record read, whatever the project's size.
    pub async fn stats(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<ProjectStats, ServiceError> {
        Ok(self.get(principal, id).await?.stats)
    }

    /// A new project owned by the caller.
    pub async fn create(
        &self,
        principal: &Principal,
        input: NewProject,
    ) -> Result<Project, ServiceError> {
        let input = input.validated()?;
        let response = self
            .db
            .query(format!(
                "LET $created = (CREATE ONLY project CONTENT {{
                     name: $name, description: $description, owner: type::record('user', $owner)
                 }});
                 SELECT {} FROM ONLY $created.id;",
                fields()
            ))
            .bind(("owner", principal.user_id.clone()))
            .bind(("name", input.name.clone()))
            .bind(("description", input.description))
            .await?
            .check();
        let mut response = response.map_err(|error| {
            if error.message().contains("project_owner_name") {
                duplicate_name(&input.name)
            } else {
                ServiceError::Database(error)
            }
        })?;
        let row: Option<ProjectRow> = response.take(1)?;
        let row =
            row.ok_or_else(|| ServiceError::Internal("created project not returned".into()))?;
        tracing::info!(project = %row.id, "project created");
        self.events
            .publish(DomainEvent::ProjectCreated {
                project: row.reference(),
                actor_id: principal.user_id.clone(),
            })
            .await;
        Ok(row.into())
    }

    /// Changes the fields present in `patch`; the event records each change. Only the
    /// changed fields are written, so concurrent patches of different fields both land.
    pub async fn update(
        &self,
        principal: &Principal,
        id: &str,
        patch: ProjectPatch,
    ) -> Result<Project, ServiceError> {
        let patch = patch.validated()?;
        let current = self.row(principal, id).await?;
        let current_settings = ProjectSettings {
            model: current.model.clone(),
            instructions: current.instructions.clone(),
        };
        let settings = match patch.settings {
            Some(settings) => settings.apply(&current_settings)?,
            None => current_settings,
        };
        // (field, column, old, new) for every field that differs.
        let candidates = [
            ("name", json!(current.name), patch.name.map(|n| json!(n))),
            (
                "description",
                json!(current.description),
                patch.description.map(|d| json!(d)),
            ),
            (
                "settings.model",
                json!(current.model),
                Some(json!(settings.model)),
            ),
            (
                "settings.instructions",
                json!(current.instructions),
                Some(json!(settings.instructions)),
            ),
        ];
        let mut changes = FieldChanges::new();
        let mut sets = Vec::new();
        let mut values = serde_json::Map::new();
        for (index, (field, from, to)) in candidates.into_iter().enumerate() {
            let Some(to) = to.filter(|to| *to != from) else {
                continue;
            };
            if to.is_null() {
                // JSON null would be stored as NULL; an unset option is NONE.
                sets.push(format!("{field} = NONE"));
            } else {
                sets.push(format!("{field} = $values.v{index}"));
                values.insert(format!("v{index}"), to.clone());
            }
            changes.insert(field.to_owned(), json!({ "from": from, "to": to }));
        }
        if changes.is_empty() {
            return Ok(current.into());
        }
        let new_name = changes
            .get("name")
            .and_then(|change| change["to"].as_str())
            .unwrap_or(&current.name)
            .to_owned();
        let response = self
            .db
            .query(format!(
                "UPDATE type::record('project', $id) SET {},
                     updated_at = time::now(), last_activity_at = time::now() RETURN NONE;
                 SELECT {} FROM ONLY type::record('project', $id);",
                sets.join(", "),
                fields()
            ))
            .bind(("id", current.id.clone()))
            .bind(("values", serde_json::Value::Object(values)))
            .await?
            .check();
        let mut response = response.map_err(|error| {
            if error.message().contains("project_owner_name") {
                duplicate_name(&new_name)
            } else {
                ServiceError::Database(error)
            }
        })?;
        let row: Option<ProjectRow> = response.take(1)?;
        let row =
            row.ok_or_else(|| ServiceError::NotFound(format!("no project with id {id:?}")))?;
        self.events
            .publish(DomainEvent::ProjectUpdated {
                project: row.reference(),
                actor_id: principal.user_id.clone(),
                changes,
            })
            .await;
        Ok(row.into())
    }

    /// Moves the project to `to` if its current status allows it (409 otherwise).
    pub async fn change_status(
        &self,
        principal: &Principal,
        id: &str,
        to: ProjectStatus,
    ) -> Result<Project, ServiceError> {
        let current = self.row(principal, id).await?;
        let from = ProjectStatus::parse(&current.status).unwrap_or(ProjectStatus::Active);
        if !from.can_move_to(to) {
            let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
            return Err(ServiceError::Conflict(format!(
                "a {} project cannot become {}; it can become {}",
                from.as_str(),
                to.as_str(),
                allowed.join(" or ")
            )));
        }
        // Only from the status we checked: a concurrent change makes this a conflict.
        let mut response = self
            .db
            .query(format!(
                "LET $moved = (UPDATE type::record('project', $id) SET status = $to,
                     updated_at = time::now(), last_activity_at = time::now()
                     WHERE status = $from RETURN VALUE id);
                 IF array::len($moved) > 0 {{ (SELECT {} FROM ONLY type::record('project', $id)) }};",
                fields()
            ))
            .bind(("id", current.id.clone()))
            .bind(("from", from.as_str().to_owned()))
            .bind(("to", to.as_str().to_owned()))
            .await?
            .check()?;
        let row: Option<ProjectRow> = response.take(1)?;
        let row = row.ok_or_else(|| {
            ServiceError::Conflict("the status changed meanwhile; reload and try again".into())
        })?;
        self.events
            .publish(DomainEvent::StatusChanged {
                project: row.reference(),
                actor_id: principal.user_id.clone(),
                from,
                to,
            })
            .await;
        Ok(row.into())
    }

    /// Deletes the project and, through the database's cascades, everything in it.
    pub async fn delete(&self, principal: &Principal, id: &str) -> Result<(), ServiceError> {
        let current = self.row(principal, id).await?;
        let mut response = self
            .db
            .query("DELETE type::record('project', $id) RETURN BEFORE")
            .bind(("id", current.id.clone()))
            .await?
            .check()?;
        let deleted: Vec<surrealdb::types::Value> = response.take(0)?;
        if deleted.is_empty() {
            // Someone else deleted it a moment ago; their event covers it.
            return Err(ServiceError::NotFound(format!("no project with id {id:?}")));
        }
        tracing::info!(project = %current.id, "project deleted");
        self.events
            .publish(DomainEvent::ProjectDeleted {
                project: current.reference(),
                actor_id: principal.user_id.clone(),
            })
            .await;
        Ok(())
    }

    async fn row(&self, principal: &Principal, id: &str) -> Result<ProjectRow, ServiceError> {
        let project = require_project_owner(&self.db, principal, id).await?;
        let mut response = self
            .db
            .query(format!(
                "SELECT {} FROM ONLY type::record('project', $id)",
                fields()
            ))
            .bind(("id", project.id))
            .await?
            .check()?;
        let row: Option<ProjectRow> = response.take(0)?;
        row.ok_or_else(|| ServiceError::NotFound(format!("no project with id {id:?}")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kiln_types::{ErrorKind, EventType, PageQuery};

    use super::*;
    use crate::{
        TimelineService,
        db::{DbConfig, connect},
        migrations::{Migrator, bundled},
    };

    struct Fixture {
        db: Db,
        projects: ProjectService,
        timeline: TimelineService,
    }

    async fn fixture() -> Fixture {
        let db = connect(&DbConfig::memory()).await.unwrap();
        Migrator::new(&db, bundled()).up().await.unwrap();
        db.query("CREATE user:alice SET email = 'alice@example.org'; CREATE user:bob SET email = 'bob@example.org';")
            .await
            .unwrap()
            .check()
            .unwrap();
        let timeline = TimelineService::new(db.clone());
        let events = EventDispatcher::new(vec![Arc::new(timeline.clone())]);
        Fixture {
            projects: ProjectService::new(db.clone(), events),
            timeline,
            db,
        }
    }

    fn user(id: &str) -> Principal {
        Principal {
            user_id: id.into(),
            is_admin: false,
            session_id: String::new(),
            csrf_token: String::new(),
        }
    }

    fn new(name: &str) -> NewProject {
        NewProject {
            name: name.into(),
            description: "d".into(),
        }
    }

    fn names(page: Page<Project>) -> Vec<String> {
        page.items.into_iter().map(|p| p.name).collect()
    }

    fn all() -> PageRequest {
        PageRequest::first(100)
    }

    #[tokio::test]
    async fn each_owner_lists_only_their_projects_most_recent_first() {
        let f = fixture().await;
        let (alice, bob) = (user("alice"), user("bob"));
        let a = f.projects.create(&alice, new("alpha")).await.unwrap();
        let b = f.projects.create(&alice, new("  beta ")).await.unwrap();
        f.projects.create(&bob, new("gamma")).await.unwrap();
        assert_eq!(b.name, "beta");
        assert_eq!(b.status, ProjectStatus::Active);
        assert!(!a.id.is_empty() && a.id != b.id);
        assert_eq!(
            names(f.projects.list(&alice, &all()).await.unwrap()),
            ["beta", "alpha"]
        );
        assert_eq!(
            names(f.projects.list(&bob, &all()).await.unwrap()),
            ["gamma"]
        );
        // Activity moves a project to the front.
        let patch = ProjectPatch {
            description: Some("touched".into()),
            ..ProjectPatch::default()
        };
        f.projects.update(&alice, &a.id, patch).await.unwrap();
        assert_eq!(
            names(f.projects.list(&alice, &all()).await.unwrap()),
            ["alpha", "beta"]
        );
    }

    #[tokio::test]
    async fn only_the_owner_may_open_change_or_delete_a_project() {
        let f = fixture().await;
        let (alice, bob) = (user("alice"), user("bob"));
        let a = f.projects.create(&alice, new("alpha")).await.unwrap();
        assert_eq!(f.projects.get(&alice, &a.id).await.unwrap(), a);
        let forbidden = |e: ServiceError| e.to_api_error().kind == ErrorKind::Forbidden;
        assert!(forbidden(f.projects.get(&bob, &a.id).await.unwrap_err()));
        assert!(forbidden(
            f.projects
                .update(&bob, &a.id, ProjectPatch::default())
                .await
                .unwrap_err()
        ));
        assert!(forbidden(
            f.projects
                .change_status(&bob, &a.id, ProjectStatus::Paused)
                .await
                .unwrap_err()
        ));
        assert!(forbidden(f.projects.delete(&bob, &a.id).await.unwrap_err()));
        let missing = f.projects.get(&alice, "nope").await.unwrap_err();
        assert_eq!(missing.to_api_error().kind, ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn names_are_unique_per_owner_and_invalid_input_is_refused() {
        let f = fixture().await;
        let (alice, bob) = (user("alice"), user("bob"));
        let same = f.projects.create(&alice, new("same")).await.unwrap();
        let dup = f.projects.create(&alice, new("same")).await.unwrap_err();
        assert_eq!(dup.to_api_error().kind, ErrorKind::Conflict, "{dup}");
        f.projects.create(&bob, new("same")).await.unwrap();
        let blank = f.projects.create(&alice, new("  ")).await.unwrap_err();
        assert_eq!(blank.to_api_error().kind, ErrorKind::ValidationError);
        let other = f.projects.create(&alice, new("other")).await.unwrap();
        let rename = ProjectPatch {
            name: Some("same".into()),
            ..ProjectPatch::default()
        };
        let clash = f
            .projects
            .update(&alice, &other.id, rename)
            .await
            .unwrap_err();
        assert_eq!(clash.to_api_error().kind, ErrorKind::Conflict);
        assert_eq!(
            f.projects.list(&alice, &all()).await.unwrap().items.len(),
            2
        );
        assert_eq!(f.projects.get(&alice, &same.id).await.unwrap().name, "same");
    }

    #[tokio::test]
    async fn status_moves_follow_the_rules_and_land_on_the_timeline() {
        let f = fixture().await;
        let alice = user("alice");
        let p = f.projects.create(&alice, new("alpha")).await.unwrap();
        let paused = f
            .projects
            .change_status(&alice, &p.id, ProjectStatus::Paused)
            .await
            .unwrap();
        assert_eq!(paused.status, ProjectStatus::Paused);
        let again = f
            .projects
            .change_status(&alice, &p.id, ProjectStatus::Paused)
            .await
            .unwrap_err();
        assert_eq!(again.to_api_error().kind, ErrorKind::Conflict);
        f.projects
            .change_status(&alice, &p.id, ProjectStatus::Archived)
            .await
            .unwrap();
        let refused = f
            .projects
            .change_status(&alice, &p.id, ProjectStatus::Paused)
            .await
            .unwrap_err();
        assert_eq!(refused.to_api_error().kind, ErrorKind::Conflict);

        let events = f
            .timeline
            .for_project(&alice, &p.id, &PageQuery::default())
            .await
            .unwrap();
        let newest = &events.items[0];
        assert_eq!(newest.event_type, EventType::StatusChanged);
        assert_eq!(newest.metadata["from"], "paused");
        assert_eq!(newest.metadata["to"], "archived");
        assert_eq!(newest.actor_id.as_deref(), Some("alice"));
        let kinds: Vec<_> = events.items.iter().map(|e| e.event_type).collect();
        assert_eq!(
            kinds,
            [
                EventType::StatusChanged,
                EventType::StatusChanged,
                EventType::ProjectCreated
            ]
        );
    }

    #[tokio::test]
    async fn an_update_records_the_field_level_diff() {
        let f = fixture().await;
        let alice = user("alice");
        let p = f.projects.create(&alice, new("alpha")).await.unwrap();
        let patch = ProjectPatch {
            name: Some("alpha 2".into()),
            description: Some("d".into()),
            settings: Some(kiln_types::SettingsPatch {
                model: Some("gpt-x".into()),
                instructions: None,
            }),
        };
        let updated = f.projects.update(&alice, &p.id, patch).await.unwrap();
        assert_eq!(updated.name, "alpha 2");
        assert_eq!(updated.settings.model.as_deref(), Some("gpt-x"));
        let events = f
            .timeline
            .for_project(&alice, &p.id, &PageQuery::default())
            .await
            .unwrap();
        let changes = &events.items[0].metadata["changes"];
        assert_eq!(changes["name"]["from"], "alpha");
        assert_eq!(changes["name"]["to"], "alpha 2");
        assert_eq!(changes["settings.model"]["to"], "gpt-x");
        assert!(
            changes.get("description").is_none(),
            "unchanged fields are left out: {changes}"
        );
        // A patch that changes nothing records nothing.
        f.projects
            .update(&alice, &p.id, ProjectPatch::default())
            .await
            .unwrap();
        let again = f
            .timeline
            .for_project(&alice, &p.id, &PageQuery::default())
            .await
            .unwrap();
        assert_eq!(again.items.len(), events.items.len());
        // Half a settings patch keeps the other half; an empty model clears it.
        let instructions = ProjectPatch {
            settings: Some(kiln_types::SettingsPatch {
                model: None,
                instructions: Some("be brief".into()),
            }),
            ..ProjectPatch::default()
        };
        let kept = f
            .projects
            .update(&alice, &p.id, instructions)
            .await
            .unwrap();
        assert_eq!(kept.settings.model.as_deref(), Some("gpt-x"));
        assert_eq!(kept.settings.instructions, "be brief");
        let clear = ProjectPatch {
            settings: Some(kiln_types::SettingsPatch {
                model: Some(String::new()),
                instructions: None,
            }),
            ..ProjectPatch::default()
        };
        let cleared = f.projects.update(&alice, &p.id, clear).await.unwrap();
        assert_eq!(cleared.settings.model, None);
        assert_eq!(cleared.settings.instructions, "be brief");
    }

    #[tokio::test]
    async fn deleting_a_project_removes_its_timeline_but_the_feed_remembers() {
        let f = fixture().await;
        let alice = user("alice");
        let p = f.projects.create(&alice, new("doomed")).await.unwrap();
        f.projects
            .change_status(&alice, &p.id, ProjectStatus::Paused)
            .await
            .unwrap();
        f.projects.delete(&alice, &p.id).await.unwrap();
        let missing = f.projects.get(&alice, &p.id).await.unwrap_err();
        assert_eq!(missing.to_api_error().kind, ErrorKind::NotFound);
        let mut left =
            f.db.query("SELECT VALUE type FROM timeline_event WHERE project_id = $id")
                .bind(("id", p.id.clone()))
                .await
                .unwrap();
        let left: Vec<String> = left.take(0).unwrap();
        assert_eq!(
            left,
            ["project_deleted"],
            "only the deletion itself stays, in the feed"
        );
        let feed = f
            .timeline
            .feed(&alice, &PageQuery::default())
            .await
            .unwrap();
        assert_eq!(feed.items[0].event_type, EventType::ProjectDeleted);
        assert_eq!(feed.items[0].metadata["name"], "doomed");
    }

    #[tokio::test]
    async fn pages_hold_every_item_once_while_items_are_added() {
        let f = fixture().await;
        let alice = user("alice");
        for i in 0..7 {
            f.projects
                .create(&alice, new(&format!("p{i}")))
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut request = PageRequest::first(3);
        loop {
            let page = f.projects.list(&alice, &request).await.unwrap();
            seen.extend(names(page.clone()));
            // Someone keeps creating projects while we page.
            f.projects
                .create(&alice, new(&format!("new{}", seen.len())))
                .await
                .unwrap();
            let Some(cursor) = page.next_cursor else {
                break;
            };
            request = PageRequest::from_query(&PageQuery {
                limit: Some(3),
                after: Some(cursor),
                ..PageQuery::default()
            })
            .unwrap();
        }
        let expected: Vec<String> = (0..7).rev().map(|i| format!("p{i}")).collect();
        assert_eq!(seen, expected);
        // And back: the page before the second one is the first one.
        let first = f
            .projects
            .list(&alice, &PageRequest::first(3))
            .await
            .unwrap();
        let second = f
            .projects
            .list(
                &alice,
                &PageRequest::from_query(&PageQuery {
                    limit: Some(3),
                    after: first.next_cursor.clone(),
                    ..PageQuery::default()
                })
                .unwrap(),
            )
            .await
            .unwrap();
        let back = f
            .projects
            .list(
                &alice,
                &PageRequest::from_query(&PageQuery {
                    limit: Some(3),
                    before: second.prev_cursor.clone(),
                    ..PageQuery::default()
                })
                .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(names(back), names(first));
    }

    #[tokio::test]
    async fn the_schema_rejects_what_validation_would() {
        let f = fixture().await;
        for bad in [
            "CREATE project CONTENT { name: '   ' }",
            "CREATE project CONTENT { name: 'x', status: 'deleted' }",
            "CREATE project CONTENT { name: 'x', stats: { file_count: -1 } }",
        ] {
            let result = f.db.query(bad).await.unwrap().check();
            assert!(result.is_err(), "the database must refuse: {bad}");
        }
    }
}
