//! Authorization: the one rule every project-scoped call goes through.

use crate::{ServiceError, auth::Principal, db::Db};

/// A project the caller has just been proven to own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedProject {
    pub id: String,
}

/// A project, and everything inside it, is readable and modifiable by its owner only.
/// Unknown project → 404; someone else's → 403. (Anonymous callers never get here:
/// every service method that touches a project takes a [`Principal`].)
pub async fn require_project_owner(
    db: &Db,
    principal: &Principal,
    project_id: &str,
) -> Result<OwnedProject, ServiceError> {
    let mut response = db
        .query(
            "SELECT VALUE owner = type::record('user', $user)
             FROM ONLY type::record('project', $id)",
        )
        .bind(("id", project_id.to_owned()))
        .bind(("user", principal.user_id.clone()))
        .await?
        .check()?;
    let is_owner: Option<bool> = response.take(0)?;
    match is_owner {
        None => Err(ServiceError::NotFound(format!(
            "no project with id {project_id:?}"
        ))),
        Some(true) => Ok(OwnedProject {
            id: project_id.to_owned(),
        }),
        Some(false) => {
            tracing::info!(user = %principal.user_id, project = project_id, "project access refused");
            Err(ServiceError::Forbidden(
                "this project belongs to another account".into(),
            ))
        }
    }
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
