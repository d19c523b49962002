//! Projects: the home of everything a user puts into Kiln.

use kiln_types::{
    NewProject, Page, Project, ProjectPatch, ProjectSettings, ProjectStats, ProjectStatus,
};
use serde_json::json;

use crate::{
    ServiceError,
    access::ProjectScope,
    auth::Principal,
    db::Db,
    error::Conflict,
    events::{DomainEvent, EventDispatcher, FieldChanges},
    pagination::PageRequest,
    store::projects::{self as store, NAME_INDEX, ProjectRow},
};

fn duplicate_name(name: &str) -> ServiceError {
    Conflict::NameTaken(format!("a project named \"{name}\" already exists")).into()
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found("project", format!("no project with id {id:?}"))
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
        let rows = store::list(&self.db, &principal.user_id, request).await?;
        Ok(request.finish(rows.into_iter().map(ProjectRow::into_keyed).collect()))
    }

    pub async fn get(&self, scope: &ProjectScope) -> Result<Project, ServiceError> {
        Ok(self.row(scope).await?.into())
    }

    /// The project's counters: one record read, whatever the project's size.
    pub async fn stats(&self, scope: &ProjectScope) -> Result<ProjectStats, ServiceError> {
        Ok(self.get(scope).await?.stats)
    }

    /// A new project owned by the caller.
    pub async fn create(
        &self,
        principal: &Principal,
        input: NewProject,
    ) -> Result<Project, ServiceError> {
        let input = input.validated()?;
        let row = store::create(
            &self.db,
            &principal.user_id,
            &input.name,
            &input.description,
        )
        .await
        .map_err(|error| match error {
            error if error.is_unique(NAME_INDEX) => duplicate_name(&input.name),
            error => error.into(),
        })?;
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
        scope: &ProjectScope,
        patch: ProjectPatch,
    ) -> Result<Project, ServiceError> {
        let (principal, id) = (scope.principal(), scope.id().as_str());
        let patch = patch.validated()?;
        let current = self.row(scope).await?;
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
        let mut updates: Vec<store::FieldUpdate> = Vec::new();
        for (field, from, to) in candidates {
            let Some(to) = to.filter(|to| *to != from) else {
                continue;
            };
            updates.push((field, (!to.is_null()).then(|| to.clone())));
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
        let row = store::update(&self.db, &current.id, &updates)
            .await
            .map_err(|error| match error {
                error if error.is_unique(NAME_INDEX) => duplicate_name(&new_name),
                error => error.into(),
            })?
            .ok_or_else(|| not_found(id))?;
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
        scope: &ProjectScope,
        to: ProjectStatus,
    ) -> Result<Project, ServiceError> {
        let principal = scope.principal();
        let current = self.row(scope).await?;
        let from = ProjectStatus::parse(&current.status).unwrap_or(ProjectStatus::Active);
        if !from.can_move_to(to) {
            let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
            return Err(Conflict::IllegalTransition(format!(
                "a {} project cannot become {}; it can become {}",
                from.as_str(),
                to.as_str(),
                allowed.join(" or ")
            ))
            .into());
        }
        // Only from the status we checked: a concurrent change makes this a conflict.
        let row = store::change_status(&self.db, &current.id, from, to).await?;
        let row = row.ok_or_else(|| {
            ServiceError::from(Conflict::Concurrent(
                "the status changed meanwhile; reload and try again".into(),
            ))
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
    pub async fn delete(&self, scope: &ProjectScope) -> Result<(), ServiceError> {
        let (principal, id) = (scope.principal(), scope.id().as_str());
        let current = self.row(scope).await?;
        let threads = crate::store::chat::thread_ids(&self.db, &current.id).await?;
        if !store::delete(&self.db, &current.id).await? {
            // Someone else deleted it a moment ago; their event covers it.
            return Err(not_found(id));
        }
        tracing::info!(project = %current.id, "project deleted");
        // Its threads went with it: their sockets hear so and close.
        for thread in threads {
            crate::chat::announce_deleted(self.events.hub(), &thread);
        }
        self.events
            .publish(DomainEvent::ProjectDeleted {
                project: current.reference(),
                actor_id: principal.user_id.clone(),
            })
            .await;
        Ok(())
    }

    async fn row(&self, scope: &ProjectScope) -> Result<ProjectRow, ServiceError> {
        let id = scope.id().as_str();
        store::get(&self.db, id).await?.ok_or_else(|| not_found(id))
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
    };

    struct Fixture {
        db: Db,
        projects: Scoped,
        timeline: TimelineService,
    }

    /// The service as transports call it: the caller's scope first, then the method.
    struct Scoped {
        db: Db,
        service: ProjectService,
    }

    impl Scoped {
        async fn scope(&self, who: &Principal, id: &str) -> Result<ProjectScope, ServiceError> {
            crate::access::project(&self.db, who, id).await
        }

        async fn create(
            &self,
            who: &Principal,
            input: NewProject,
        ) -> Result<Project, ServiceError> {
            self.service.create(who, input).await
        }

        async fn list(
            &self,
            who: &Principal,
            page: &PageRequest,
        ) -> Result<Page<Project>, ServiceError> {
            self.service.list(who, page).await
        }

        async fn get(&self, who: &Principal, id: &str) -> Result<Project, ServiceError> {
            self.service.get(&self.scope(who, id).await?).await
        }

        async fn update(
            &self,
            who: &Principal,
            id: &str,
            patch: ProjectPatch,
        ) -> Result<Project, ServiceError> {
            self.service
                .update(&self.scope(who, id).await?, patch)
                .await
        }

        async fn change_status(
            &self,
            who: &Principal,
            id: &str,
            to: ProjectStatus,
        ) -> Result<Project, ServiceError> {
            self.service
                .change_status(&self.scope(who, id).await?, to)
                .await
        }

        async fn delete(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
            self.service.delete(&self.scope(who, id).await?).await
        }
    }

    async fn fixture() -> Fixture {
        let db = connect(&DbConfig::memory()).await.unwrap();
        crate::migrations::prepare(&db).await.unwrap();
        db.query("CREATE user:alice SET email = 'alice@example.org'; CREATE user:bob SET email = 'bob@example.org';")
            .await
            .unwrap()
            .check()
            .unwrap();
        let timeline = TimelineService::new(db.clone());
        let events = EventDispatcher::new(vec![Arc::new(timeline.clone())], Default::default());
        Fixture {
            projects: Scoped {
                db: db.clone(),
                service: ProjectService::new(db.clone(), events),
            },
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
            expires_at: u64::MAX,
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
            .for_project(
                &f.projects.scope(&alice, &p.id).await.unwrap(),
                &PageQuery::default(),
            )
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
            .for_project(
                &f.projects.scope(&alice, &p.id).await.unwrap(),
                &PageQuery::default(),
            )
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
            .for_project(
                &f.projects.scope(&alice, &p.id).await.unwrap(),
                &PageQuery::default(),
            )
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
