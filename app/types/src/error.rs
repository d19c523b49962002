use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// Stable, machine-readable error codes. Clients branch on these, never on `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    BadRequest,
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    RateLimitExceeded,
    ServiceUnavailable,
    InternalError,
    /// A code this build does not know yet (a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorKind {
    /// The kind an HTTP error status stands for (for errors raised outside Kiln's code).
    pub fn from_http_status(status: u16) -> Self {
        match status {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            422 => Self::ValidationError,
            429 => Self::RateLimitExceeded,
            503 => Self::ServiceUnavailable,
            400..500 => Self::BadRequest,
            _ => Self::InternalError,
        }
    }

    /// The HTTP status this kind of error is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::ValidationError => 422,
            Self::RateLimitExceeded => 429,
            Self::ServiceUnavailable => 503,
            Self::InternalError | Self::Unknown => 500,
        }
    }
}

/// One invalid field of a request, for `validation_error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The one error envelope of every Kiln API: REST, WebSocket and server functions.
///
/// `{"type": "...", "detail": "...", "request_id": "...", "fields": [...]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{detail}")]
pub struct ApiError {
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    /// Human-readable explanation, safe to show to the user.
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            request_id: None,
            fields: Vec::new(),
        }
    }

    /// A 422 naming the offending field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            kind: ErrorKind::ValidationError,
            detail: format!("{field}: {message}"),
            request_id: None,
            fields: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
        }
    }
}

/// Lets server functions return `Result<T, ApiError>`, so the browser sees the same
/// envelope as REST clients.
impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let kind = match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                ErrorKind::BadRequest
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                ErrorKind::ServiceUnavailable
            }
            _ => ErrorKind::InternalError,
        };
        Self::new(kind, value.to_string())
    }
}
