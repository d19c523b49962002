//! Projects: the home of everything a user puts into Kiln.

use kiln_types::{NewProject, Project};
use surrealdb::types::SurrealValue;

use crate::{ServiceError, access::require_project_owner, auth::Principal, db::Db};

/// The columns every project query returns, with ids and times as plain strings.
/// Times have a fixed width (microseconds, UTC), so they also sort as strings.
const PROJECT_FIELDS: &str = "record::id(id) AS id, name, description, \
     time::format(created_at, '%Y-%m-%dT%H:%M:%S%.6fZ') AS created_at";

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct ProjectRow {
    id: String,
    name: String,
    description: String,
    created_at: String,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Project {
            id: row.id,
            name: row.name,
            description: row.description,
            created_at: row.created_at,
        }
    }
}

#[derive(Clone)]
pub struct ProjectService {
    db: Db,
}

impl ProjectService {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The caller's projects, newest first.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<Project>, ServiceError> {
        let mut response = self
            .db
            .query(format!(
                "SELECT {PROJECT_FIELDS} FROM project WHERE owner = type::record('user', $owner)
                 ORDER BY created_at DESC, id DESC"
            ))
            .bind(("owner", principal.user_id.clone()))
            .await?
            .check()?;
        let rows: Vec<ProjectRow> = response.take(0)?;
        Ok(rows.into_iter().map(Project::from).collect())
    }

    pub async fn get(&self, principal: &Principal, id: &str) -> Result<Project, ServiceError> {
        let project = require_project_owner(&self.db, principal, id).await?;
        let mut response = self
            .db
            .query(format!(
                "SELECT {PROJECT_FIELDS} FROM ONLY type::record('project', $id)"
            ))
            .bind(("id", project.id))
            .await?
            .check()?;
        let row: Option<ProjectRow> = response.take(0)?;
        row.map(Project::from)
            .ok_or_else(|| ServiceError::NotFound(format!("no project with id {id:?}")))
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
                 SELECT {PROJECT_FIELDS} FROM ONLY $created.id;"
            ))
            .bind(("owner", principal.user_id.clone()))
            .bind(("name", input.name.clone()))
            .bind(("description", input.description))
            .await?
            .check();
        let mut response = response.map_err(|error| {
            if error.message().contains("project_owner_name") {
                ServiceError::Conflict(format!("a project named \"{}\" already exists", input.name))
            } else {
                ServiceError::Database(error)
            }
        })?;
        let row: Option<ProjectRow> = response.take(1)?;
        let project = row
            .map(Project::from)
            .ok_or_else(|| ServiceError::Internal("created project not returned".into()))?;
        tracing::info!(project = %project.id, "project created");
        Ok(project)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        db::{DbConfig, connect},
        migrations::{Migrator, bundled},
    };
    use kiln_types::ErrorKind;

    async fn service() -> ProjectService {
        let db = connect(&DbConfig::memory()).await.unwrap();
        Migrator::new(&db, bundled()).up().await.unwrap();
        db.query("CREATE user:alice SET email = 'alice@example.org'; CREATE user:bob SET email = 'bob@example.org';")
            .await
            .unwrap()
            .check()
            .unwrap();
        ProjectService::new(db)
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

    #[tokio::test]
    async fn each_owner_lists_only_their_projects_newest_first() {
        let projects = service().await;
        let (alice, bob) = (user("alice"), user("bob"));
        let a = projects.create(&alice, new("alpha")).await.unwrap();
        let b = projects.create(&alice, new("  beta ")).await.unwrap();
        projects.create(&bob, new("gamma")).await.unwrap();
        assert_eq!(b.name, "beta");
        assert!(!a.id.is_empty() && a.id != b.id);
        let names = |list: Vec<Project>| list.into_iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(
            names(projects.list(&alice).await.unwrap()),
            ["beta", "alpha"]
        );
        assert_eq!(names(projects.list(&bob).await.unwrap()), ["gamma"]);
    }

    #[tokio::test]
    async fn only_the_owner_may_open_a_project() {
        let projects = service().await;
        let (alice, bob) = (user("alice"), user("bob"));
        let a = projects.create(&alice, new("alpha")).await.unwrap();
        assert_eq!(projects.get(&alice, &a.id).await.unwrap(), a);
        let refused = projects.get(&bob, &a.id).await.unwrap_err();
        assert_eq!(refused.to_api_error().kind, ErrorKind::Forbidden);
        let missing = projects.get(&alice, "nope").await.unwrap_err();
        assert_eq!(missing.to_api_error().kind, ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn names_are_unique_per_owner_and_invalid_input_is_refused() {
        let projects = service().await;
        let (alice, bob) = (user("alice"), user("bob"));
        projects.create(&alice, new("same")).await.unwrap();
        let dup = projects.create(&alice, new("same")).await.unwrap_err();
        assert_eq!(dup.to_api_error().kind, ErrorKind::Conflict, "{dup}");
        projects.create(&bob, new("same")).await.unwrap();
        let blank = projects.create(&alice, new("  ")).await.unwrap_err();
        assert_eq!(blank.to_api_error().kind, ErrorKind::ValidationError);
        assert_eq!(projects.list(&alice).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_schema_rejects_what_validation_would() {
        let projects = service().await;
        let result = projects
            .db
            .query("CREATE project CONTENT { name: '   ' }")
            .await
            .unwrap()
            .check();
        assert!(result.is_err(), "database assert must refuse a blank name");
    }
}
