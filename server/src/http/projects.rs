//! `/api/projects`: the caller's projects, their status, stats and timeline.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, Uri},
    response::Response,
};
use kiln_core::{Services, pagination::PageRequest};
use kiln_types::{
    ApiError, NewProject, Page, PageQuery, Project, ProjectPatch, ProjectStats, StatusChange,
    TimelineEvent,
};

use super::{
    ApiErrorResponse,
    access::OwnedProject,
    json::{ApiJson, ApiQuery, paged},
    session::CurrentUser,
};

/// The caller's projects, most recently active first, a page at a time.
#[utoipa::path(get, path = "/api/projects", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Page<Project>, description = "A page; `next_cursor` (and the `Link` header) lead on"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 422, description = "Bad limit or cursor", body = ApiError),
    ))]
pub async fn list(
    State(services): State<Services>,
    CurrentUser(principal): CurrentUser,
    uri: Uri,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiErrorResponse> {
    let request = PageRequest::from_query(&query)?;
    let page = services.projects.list(&principal, &request).await?;
    Ok(paged(&uri, page))
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
    OwnedProject(scope): OwnedProject,
) -> Result<Json<Project>, ApiErrorResponse> {
    Ok(Json(services.projects.get(&scope).await?))
}

/// Change the name, description or settings (only the fields sent).
#[utoipa::path(patch, path = "/api/projects/{project_id}", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    request_body = ProjectPatch,
    responses(
        (status = 200, body = Project),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
        (status = 409, description = "The caller already has a project of that name", body = ApiError),
        (status = 422, description = "Invalid fields", body = ApiError),
    ))]
pub async fn update(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
    ApiJson(patch): ApiJson<ProjectPatch>,
) -> Result<Json<Project>, ApiErrorResponse> {
    Ok(Json(services.projects.update(&scope, patch).await?))
}

/// Delete the project and everything in it.
#[utoipa::path(delete, path = "/api/projects/{project_id}", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
    ))]
pub async fn delete(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
) -> Result<StatusCode, ApiErrorResponse> {
    services.projects.delete(&scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move the project to another status: active ⇄ paused, active/paused → archived,
/// archived → active. Other moves are a 409.
#[utoipa::path(method(post, put, patch), path = "/api/projects/{project_id}/status", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    request_body = StatusChange,
    responses(
        (status = 200, body = Project),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
        (status = 409, description = "Not an allowed move from the current status", body = ApiError),
        (status = 422, description = "Unknown status", body = ApiError),
    ))]
pub async fn change_status(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<Project>, ApiErrorResponse> {
    Ok(Json(
        services
            .projects
            .change_status(&scope, change.status)
            .await?,
    ))
}

/// The project's counters (files, bytes, lines, languages, threads, messages).
#[utoipa::path(get, path = "/api/projects/{project_id}/stats", tag = "projects",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    responses(
        (status = 200, body = ProjectStats),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
    ))]
pub async fn stats(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
) -> Result<Json<ProjectStats>, ApiErrorResponse> {
    Ok(Json(services.projects.stats(&scope).await?))
}

/// What happened to the project, newest first; `?type=a,b` keeps only those kinds.
#[utoipa::path(get, path = "/api/projects/{project_id}/timeline", tag = "timeline",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id"), PageQuery),
    responses(
        (status = 200, body = Page<TimelineEvent>),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
        (status = 422, description = "Bad limit, cursor or type", body = ApiError),
    ))]
pub async fn timeline(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
    uri: Uri,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiErrorResponse> {
    let page = services.timeline.for_project(&scope, &query).await?;
    Ok(paged(&uri, page))
}

/// What happened across all the caller's projects, newest first.
#[utoipa::path(get, path = "/api/timeline", tag = "timeline",
    security(("bearer" = []), ("cookie" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Page<TimelineEvent>),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 422, description = "Bad limit, cursor or type", body = ApiError),
    ))]
pub async fn feed(
    State(services): State<Services>,
    CurrentUser(principal): CurrentUser,
    uri: Uri,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiErrorResponse> {
    let page = services.timeline.feed(&principal, &query).await?;
    Ok(paged(&uri, page))
}
