//! Projects: the home of everything a user puts into Kiln.

use kiln_types::{NewProject, Project};
use surrealdb::types::SurrealValue;

use crate::{ServiceError, db::Db};

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

    /// Newest first.
    pub async fn list(&self) -> Result<Vec<Project>, ServiceError> {
        let mut response = self
            .db
            .query(format!(
                "SELECT {PROJECT_FIELDS} FROM project ORDER BY created_at DESC, id DESC"
            ))
            .await?
            .check()?;
        let rows: Vec<ProjectRow> = response.take(0)?;
        Ok(rows.into_iter().map(Project::from).collect())
    }

    pub async fn create(&self, input: NewProject) -> Result<Project, ServiceError> {
        let input = input.validated()?;
        let response = self
            .db
            .query(format!(
                "LET $created = (CREATE ONLY project CONTENT {{ name: $name, description: $description }});
                 SELECT {PROJECT_FIELDS} FROM ONLY $created.id;"
            ))
            .bind(("name", input.name.clone()))
            .bind(("description", input.description))
            .await?
            .check();
        let mut response = response.map_err(|error| {
            if error.message().contains("project_name") {
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
        ProjectService::new(db)
    }

    fn new(name: &str) -> NewProject {
        NewProject {
            name: name.into(),
            description: "d".into(),
        }
    }

    #[tokio::test]
    async fn created_projects_are_listed_newest_first() {
        let projects = service().await;
        let a = projects.create(new("alpha")).await.unwrap();
        let b = projects.create(new("  beta ")).await.unwrap();
        assert_eq!(b.name, "beta");
        assert!(!a.id.is_empty() && a.id != b.id);
        let names: Vec<_> = projects
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["beta", "alpha"]);
    }

    #[tokio::test]
    async fn a_duplicate_name_is_a_conflict_and_invalid_input_is_refused() {
        let projects = service().await;
        projects.create(new("same")).await.unwrap();
        let dup = projects.create(new("same")).await.unwrap_err();
        assert_eq!(dup.to_api_error().kind, ErrorKind::Conflict, "{dup}");
        let blank = projects.create(new("  ")).await.unwrap_err();
        assert_eq!(blank.to_api_error().kind, ErrorKind::ValidationError);
        assert_eq!(projects.list().await.unwrap().len(), 1);
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
