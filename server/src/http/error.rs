use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use kiln_core::ServiceError;
use kiln_types::{ApiError, ErrorKind};

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

/// Middleware answers some errors (413 from the body limit) with a bare text body;
/// this gives them the envelope every other error has.
pub async fn envelope_for_bare_errors(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        let error = ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "request bodies are limited to {} bytes",
                super::JSON_BODY_LIMIT
            ),
        );
        return ApiErrorResponse(error).into_response();
    }
    response
}
