use axum::{Json, extract::State};
use kiln_core::Services;
use kiln_types::{ApiError, ErrorKind, HealthStatus};

use super::ApiErrorResponse;

fn ok() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: "ok".into(),
    })
}

/// Liveness: the process answers. No I/O.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = HealthStatus)))]
pub async fn live() -> Json<HealthStatus> {
    ok()
}

/// Readiness: the database answers a query.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, body = HealthStatus),
        (status = 503, description = "The database does not answer", body = ApiError),
    ))]
pub async fn ready(
    State(services): State<Services>,
) -> Result<Json<HealthStatus>, ApiErrorResponse> {
    match kiln_core::db::ping(&services.db).await {
        Ok(()) => Ok(ok()),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            Err(ApiError::new(ErrorKind::ServiceUnavailable, "database unreachable").into())
        }
    }
}
