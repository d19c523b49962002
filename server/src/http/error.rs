use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use kiln_core::ServiceError;
use kiln_types::ApiError;

/// The JSON error envelope as an HTTP response.
#[derive(Debug)]
pub struct ApiErrorResponse(pub ApiError);

impl From<ApiError> for ApiErrorResponse {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl From<ServiceError> for ApiErrorResponse {
    fn from(error: ServiceError) -> Self {
        Self(error.to_api_error())
    }
}

impl IntoResponse for ApiErrorResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.kind.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}
