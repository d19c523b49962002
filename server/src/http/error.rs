use axum::{
    Json,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use kiln_core::ServiceError;
use kiln_types::{ApiError, ErrorKind};

use super::AppState;

/// The JSON error envelope as an HTTP response, and for a server error the internal
/// cause, which only the log sees (see [`complete_error_envelopes`]).
#[derive(Debug)]
pub struct ApiErrorResponse(pub ApiError, pub Option<InternalCause>);

/// What went wrong inside, for the log line of a 5xx. Never sent to the client.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

impl From<ApiError> for ApiErrorResponse {
    fn from(error: ApiError) -> Self {
        Self(error, None)
    }
}

impl From<ServiceError> for ApiErrorResponse {
    fn from(error: ServiceError) -> Self {
        let cause = error
            .is_server_error()
            .then(|| InternalCause(error.to_string()));
        Self(error.to_api_error(), cause)
    }
}

impl IntoResponse for ApiErrorResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.kind.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(&self.0)).into_response();
        if self.0.kind == ErrorKind::Unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // The outermost middleware adds the request id and logs (see
        // `complete_error_envelopes`).
        response.extensions_mut().insert(self.0);
        if let Some(cause) = self.1 {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

/// Gives every error the full envelope: the request id in the body (so a user can quote
/// it and an operator can find the log lines), and a body for the API errors the
/// framework answers with bare text (413 from the body limit, 405 from the router).
/// This is also where an error is logged, once: server errors with their internal
/// cause, client errors at debug level.
pub async fn complete_error_envelopes(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let status = response.status();
    let error = match response.extensions_mut().remove::<ApiError>() {
        Some(error) => error,
        None if status == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) => ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "request bodies are limited to {} bytes",
                state.settings.json_body_limit
            ),
        ),
        None if is_api && status.as_u16() >= 400 && !is_json(&response) => ApiError::new(
            ErrorKind::from_http_status(status.as_u16()),
            status.canonical_reason().unwrap_or("error").to_lowercase(),
        ),
        None => return response,
    };
    let cause = response.extensions_mut().remove::<InternalCause>();
    if status.is_server_error() {
        let cause = cause.as_ref().map_or("", |cause| cause.0.as_str());
        tracing::error!(status = status.as_u16(), code = %error.code, cause, "request failed");
    } else {
        tracing::debug!(status = status.as_u16(), code = %error.code, "request refused");
    }
    let error = ApiError {
        request_id,
        ..error
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = Json(&error).into_response().into_body();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, body)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"))
}
