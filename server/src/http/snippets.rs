use axum::{Json, extract::State};
use kiln_core::Services;
use kiln_types::{ApiError, ExtractSnippetsRequest, ExtractSnippetsResponse};

use super::{ApiErrorResponse, json::ApiJson};

/// Find the fenced code blocks of a Markdown document. Runs the snippet-extractor
/// plugin; when it fails or is in quarantine, the built-in extractor answers.
#[utoipa::path(post, path = "/api/snippets/extract", tag = "snippets",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ExtractSnippetsRequest,
    responses(
        (status = 200, body = ExtractSnippetsResponse),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 413, description = "The document is too large", body = ApiError),
    ))]
pub async fn extract(
    State(services): State<Services>,
    ApiJson(request): ApiJson<ExtractSnippetsRequest>,
) -> Result<Json<ExtractSnippetsResponse>, ApiErrorResponse> {
    let snippets = services.snippets.extract(request.markdown).await?;
    Ok(Json(ExtractSnippetsResponse { snippets }))
}
