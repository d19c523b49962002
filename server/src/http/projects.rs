//! `/api/projects`: the caller's projects.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kiln_core::Services;
use kiln_types::{ApiError, NewProject, Project};

use super::{ApiErrorResponse, json::ApiJson, session::CurrentUser};

/// The caller's projects, newest first.
#[utoipa::path(get, path = "/api/projects", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = Vec<Project>),
        (status = 401, description = "Not logged in", body = ApiError),
    ))]
pub async fn list(
    State(services): State<Services>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<Vec<Project>>, ApiErrorResponse> {
    Ok(Json(services.projects.list(&principal).await?))
}

/// Create a project owned by the caller.
#[utoipa::path(post, path = "/api/projects", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    request_body = NewProject,
    responses(
        (status = 201, body = Project),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 409, description = "The caller already has a project of that name", body = ApiError),
        (status = 422, description = "Invalid name or description", body = ApiError),
    ))]
pub async fn create(
    State(services): State<Services>,
    CurrentUser(principal): CurrentUser,
    ApiJson(input): ApiJson<NewProject>,
) -> Result<(StatusCode, Json<Project>), ApiErrorResponse> {
    let project = services.projects.create(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// One project, for its owner only.
#[utoipa::path(get, path = "/api/projects/{project_id}", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    responses(
        (status = 200, body = Project),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
    ))]
pub async fn get(
    State(services): State<Services>,
    CurrentUser(principal): CurrentUser,
    Path(project_id): Path<String>,
) -> Result<Json<Project>, ApiErrorResponse> {
    Ok(Json(services.projects.get(&principal, &project_id).await?))
}
