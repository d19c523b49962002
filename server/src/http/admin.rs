//! `/api/admin/*`: installation-wide views for administrators.

use axum::{Json, extract::State};
use kiln_core::{Services, access::require_admin};
use kiln_types::{ApiError, PluginSummary};

use super::{ApiErrorResponse, session::CurrentUser};

/// The loaded plugins with their status and counters.
#[utoipa::path(get, path = "/api/admin/plugins", tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = Vec<PluginSummary>),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Not an administrator", body = ApiError),
    ))]
pub async fn plugins(
    State(services): State<Services>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<Vec<PluginSummary>>, ApiErrorResponse> {
    require_admin(&principal)?;
    Ok(Json(services.snippets.plugins()))
}
