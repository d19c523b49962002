use axum::{Json, extract::State};
use kiln_core::Services;
use kiln_types::{ApiError, ExtractSnippetsRequest, ExtractSnippetsResponse};

use super::{ApiErrorResponse, json::ApiJson};

/// Find the fenced code blocks of a Markdown document (runs the snippet-extractor plugin).
#[utoipa::path(post, path = "/api/snippets/extract", tag = "snippets",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ExtractSnippetsRequest,
    responses(
        (status = 200, body = ExtractSnippetsResponse),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 413, description = "The document is too large", body = ApiError),
        (status = 503, description = "The plugin failed or is not installed", body = ApiError),
    ))]
pub async fn extract(
    State(services): State<Services>,
    ApiJson(request): ApiJson<ExtractSnippetsRequest>,
) -> Result<Json<ExtractSnippetsResponse>, ApiErrorResponse> {
    let snippets = services.snippets.extract(request.markdown).await?;
    Ok(Json(ExtractSnippetsResponse { snippets }))
}
