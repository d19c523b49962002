//! Code documents over REST: uploads, files, versions, search and indexing progress.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    Json,
    extract::{Path, Request, State, multipart::MultipartError},
    http::{StatusCode, header},
};
use futures_util::Stream;
use kiln_core::{
    Services,
    files::{FileSettings, IncomingFile},
};
use kiln_types::{
    ApiError, DiffQuery, ErrorKind, FileDetail, FileDiff, FileEdit, FileSummary, FileVersion,
    IndexStatus, RestoreRequest, SearchQuery, SearchResults, UploadReport,
};
use serde::Deserialize;

use super::{
    ApiErrorResponse, AppState,
    access::{OwnedFile, OwnedProject},
    json::{ApiJson, ApiQuery},
};

/// A multipart error: 413 when the body limit cut the request short, 400 otherwise.
pub fn multipart_error(error: &MultipartError, limit: usize) -> ApiErrorResponse {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        body_too_large(limit)
    } else {
        ApiErrorResponse::from(ApiError::new(ErrorKind::BadRequest, error.body_text()))
    }
}

fn body_too_large(limit: usize) -> ApiErrorResponse {
    ApiErrorResponse::from(ApiError::too_large(
        format!("the request body is limited to {limit} bytes"),
        u64::try_from(limit).unwrap_or(u64::MAX),
    ))
}

/// Hands the body to the multipart parser one piece at a time. The parser otherwise
/// reads ahead everything that has already arrived, so a fast client could make it
/// buffer up to the whole request limit before a single file's limit is checked.
struct OnePieceAtATime<S> {
    body: S,
    just_gave: bool,
}

impl<S: Stream + Unpin> Stream for OnePieceAtATime<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if std::mem::take(&mut self.just_gave) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = Pin::new(&mut self.body).poll_next(cx);
        self.just_gave = matches!(next, Poll::Ready(Some(_)));
        next
    }
}

/// 413 when the body limit cut the stream, 400 for anything else malformed.
fn upload_error(error: multer::Error, body_limit: usize) -> ApiErrorResponse {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return body_too_large(body_limit);
        }
        source = cause.source();
    }
    ApiErrorResponse::from(ApiError::new(ErrorKind::BadRequest, error.to_string()))
}

/// Reads the `files` parts, refusing a file or the whole request as soon as it
/// passes its limit — never after reading it whole.
async fn read_files(
    request: Request,
    limits: FileSettings,
    body_limit: usize,
) -> Result<Vec<IncomingFile>, ApiErrorResponse> {
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| multer::parse_boundary(value).ok())
        .ok_or_else(|| {
            ApiErrorResponse::from(ApiError::new(
                ErrorKind::BadRequest,
                "send a multipart/form-data body of `files` parts",
            ))
        })?;
    let body = OnePieceAtATime {
        body: request.into_body().into_data_stream(),
        just_gave: false,
    };
    let mut form = multer::Multipart::new(body, boundary);
    let mut files = Vec::new();
    let mut total: u64 = 0;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| upload_error(e, body_limit))?
    {
        if field.name() != Some("files") {
            return Err(ApiErrorResponse::from(ApiError::new(
                ErrorKind::BadRequest,
                format!(
                    "unexpected form part {:?}; send each file as a `files` part",
                    field.name()
                ),
            )));
        }
        let Some(name) = field.file_name().map(str::to_owned) else {
            return Err(ApiError::invalid_field(
                "files",
                "each part needs a filename: the file's path inside the project",
            )
            .into());
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| upload_error(e, body_limit))?
        {
            let size = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
            total = total.saturating_add(size);
            if u64::try_from(bytes.len()).unwrap_or(u64::MAX) + size > limits.max_file_bytes {
                return Err(limits.file_too_large(&name).into());
            }
            if total > limits.max_request_bytes {
                return Err(limits.upload_too_large().into());
            }
            bytes.extend_from_slice(&chunk);
        }
        files.push(IncomingFile { name, bytes });
    }
    Ok(files)
}

/// Uploads files into the project: a multipart form whose parts are all named `files`,
/// each part's filename the path inside the project (`src/main.rs`); a `.zip`, `.tar`
/// or `.tar.gz` is expanded. Per file: `created`, `updated` (new version), `duplicate`
/// (same content, nothing written) or `refused`.
#[utoipa::path(post, path = "/api/projects/{project_id}/files", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    request_body(content_type = "multipart/form-data", description = "`files` parts; filename = path in the project"),
    responses(
        (status = 200, body = UploadReport),
        (status = 400, description = "Not a multipart form of `files` parts", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
        (status = 409, description = "The project is archived", body = ApiError),
        (status = 413, description = "A file or the request exceeds its limit (`limit` says which, in bytes)", body = ApiError),
        (status = 422, description = "Unsafe or duplicate path, unreadable archive", body = ApiError),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    OwnedProject(scope): OwnedProject,
    request: Request,
) -> Result<Json<UploadReport>, ApiErrorResponse> {
    let services = &state.services;
    let files = read_files(
        request,
        services.files.settings(),
        state.settings.upload_body_limit,
    )
    .await?;
    let report = services.files.upload(&scope, files).await?;
    Ok(Json(report))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Also list deleted (restorable) files.
    #[serde(default)]
    pub include_deleted: bool,
}

/// The project's files by path, without content.
#[utoipa::path(get, path = "/api/projects/{project_id}/files", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id"), ListQuery),
    responses(
        (status = 200, body = Vec<FileSummary>),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
    ))]
pub async fn list(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<FileSummary>>, ApiErrorResponse> {
    Ok(Json(
        services.files.list(&scope, query.include_deleted).await?,
    ))
}

/// One file with its content (text files) and symbol outline.
#[utoipa::path(get, path = "/api/files/{file_id}", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("file_id" = String, Path, description = "The file's id")),
    responses(
        (status = 200, body = FileDetail),
        (status = 403, description = "A file of another account's project", body = ApiError),
        (status = 404, description = "No such file", body = ApiError),
    ))]
pub async fn get(
    State(services): State<Services>,
    OwnedFile(scope): OwnedFile,
) -> Result<Json<FileDetail>, ApiErrorResponse> {
    Ok(Json(services.files.get(&scope).await?))
}

/// Saves new content and/or a new path, made on `version`. A stale version is a 409
/// carrying `current_version` and `current_sha256`; success is version + 1.
#[utoipa::path(put, path = "/api/files/{file_id}", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("file_id" = String, Path, description = "The file's id")),
    request_body = FileEdit,
    responses(
        (status = 200, body = FileSummary),
        (status = 403, description = "A file of another account's project", body = ApiError),
        (status = 404, description = "No such file", body = ApiError),
        (status = 409, description = "Stale version (see `current_version`), path taken, file deleted or project archived", body = ApiError),
        (status = 413, description = "Content over the per-file limit", body = ApiError),
        (status = 422, description = "Nothing to change, or an unsafe path", body = ApiError),
    ))]
pub async fn update(
    State(services): State<Services>,
    OwnedFile(scope): OwnedFile,
    ApiJson(edit): ApiJson<FileEdit>,
) -> Result<Json<FileSummary>, ApiErrorResponse> {
    Ok(Json(services.files.edit(&scope, edit).await?))
}

/// Deletes a file softly: gone from listings, search and counters; restorable.
#[utoipa::path(delete, path = "/api/files/{file_id}", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("file_id" = String, Path, description = "The file's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "A file of another account's project", body = ApiError),
        (status = 404, description = "No such file, or already deleted", body = ApiError),
        (status = 409, description = "The project is archived", body = ApiError),
    ))]
pub async fn delete(
    State(services): State<Services>,
    OwnedFile(scope): OwnedFile,
) -> Result<StatusCode, ApiErrorResponse> {
    services.files.delete(&scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every version of a file, newest (current) first.
#[utoipa::path(get, path = "/api/files/{file_id}/versions", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("file_id" = String, Path, description = "The file's id")),
    responses(
        (status = 200, body = Vec<FileVersion>),
        (status = 403, description = "A file of another account's project", body = ApiError),
        (status = 404, description = "No such file", body = ApiError),
    ))]
pub async fn versions(
    State(services): State<Services>,
    OwnedFile(scope): OwnedFile,
) -> Result<Json<Vec<FileVersion>>, ApiErrorResponse> {
    Ok(Json(services.files.versions(&scope).await?))
}

/// One version with its content.
#[utoipa::path(get, path = "/api/files/{file_id}/versions/{version}", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("file_id" = String, Path, description = "The file's id"),
        ("version" = u64, Path, description = "The version number"),
    ),
    responses(
        (status = 200, body = FileVersion),
        (status = 403, description = "A file of another account's project", body = ApiError),
        (status = 404, description = "No such file or version", body = ApiError),
    ))]
pub async fn version(
    State(services): State<Services>,
    OwnedFile(scope): OwnedFile,
    Path((_, version)): Path<(String, String)>,
) -> Result<Json<FileVersion>, ApiErrorResponse> {
    let version = version.parse::<u64>().map_err(|_| {
        ApiError::invalid_field(
            "version",
            format!("{version:?} is not a version number (1, 2, …)"),
        )
    })?;
    Ok(Json(services.files.version(&scope, version).await?))
}

/// Line differences from version `from` to version `to` (default: current).
#[utoipa::path(get, path = "/api/files/{file_id}/diff", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("file_id" = String, Path, description = "The file's id"), DiffQuery),
    responses(
        (status = 200, body = FileDiff),
        (status = 403, description = "A file of another account's project", body = ApiError),
        (status = 404, description = "No such file or version", body = ApiError),
    ))]
pub async fn diff(
    State(services): State<Services>,
    OwnedFile(scope): OwnedFile,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> Result<Json<FileDiff>, ApiErrorResponse> {
    Ok(Json(
        services.files.diff(&scope, query.from, query.to).await?,
    ))
}

/// Restores an older version's content as a new version (`{"version": n}`), or
/// undeletes the file (`{}`).
#[utoipa::path(post, path = "/api/files/{file_id}/restore", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("file_id" = String, Path, description = "The file's id")),
    request_body = RestoreRequest,
    responses(
        (status = 200, body = FileSummary),
        (status = 403, description = "A file of another account's project", body = ApiError),
        (status = 404, description = "No such file or version", body = ApiError),
        (status = 409, description = "The project is archived", body = ApiError),
        (status = 422, description = "Nothing to restore", body = ApiError),
    ))]
pub async fn restore(
    State(services): State<Services>,
    OwnedFile(scope): OwnedFile,
    request: Option<ApiJson<RestoreRequest>>,
) -> Result<Json<FileSummary>, ApiErrorResponse> {
    let version = request.and_then(|ApiJson(request)| request.version);
    Ok(Json(services.files.restore(&scope, version).await?))
}

/// Full-text search over the project's code: words and identifiers (`parseConfig`,
/// `parse_config` and `parse config` are the same words), best first, each hit a
/// file's line range with the matching words marked.
#[utoipa::path(get, path = "/api/projects/{project_id}/search", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id"), SearchQuery),
    responses(
        (status = 200, body = SearchResults),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
        (status = 422, description = "Empty query, bad limit or pattern", body = ApiError),
    ))]
pub async fn search(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiErrorResponse> {
    Ok(Json(services.files.search(&scope, &query).await?))
}

/// How many files are queued, indexed, failed (with reasons) or skipped.
#[utoipa::path(get, path = "/api/projects/{project_id}/index-status", tag = "files",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    responses(
        (status = 200, body = IndexStatus),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
    ))]
pub async fn index_status(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
) -> Result<Json<IndexStatus>, ApiErrorResponse> {
    Ok(Json(services.files.index_status(&scope).await?))
}
