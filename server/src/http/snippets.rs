use axum::{Json, extract::State};
use kiln_core::Services;
use kiln_types::{ExtractSnippetsRequest, ExtractSnippetsResponse};

use super::{ApiErrorResponse, json::ApiJson};

/// `POST /api/snippets/extract`
pub async fn extract(
    State(services): State<Services>,
    ApiJson(request): ApiJson<ExtractSnippetsRequest>,
) -> Result<Json<ExtractSnippetsResponse>, ApiErrorResponse> {
    let snippets = services.snippets.extract(request.markdown).await?;
    Ok(Json(ExtractSnippetsResponse { snippets }))
}
