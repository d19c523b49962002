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
    /// A body in a format the route does not take (e.g. no `Content-Type: application/json`).
    UnsupportedMediaType,
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
            415 => Self::UnsupportedMediaType,
            422 => Self::ValidationError,
            429 => Self::RateLimitExceeded,
            503 => Self::ServiceUnavailable,
            400..500 => Self::BadRequest,
            _ => Self::InternalError,
        }
    }

    /// The `type` value on the wire, e.g. `not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::ValidationError => "validation_error",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::ServiceUnavailable => "service_unavailable",
            Self::InternalError => "internal_error",
            Self::Unknown => "unknown",
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
            Self::UnsupportedMediaType => 415,
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
/// `{"type": "...", "code": "...", "detail": "...", "request_id": "...", "fields": [...],
/// "details": {...}}`. `type` is the broad class (one per HTTP status); `code` the
/// precise reason clients branch on (`stale_version`, `name_taken`, … — the `type`
/// itself when there is nothing more precise); `details` the facts that go with the
/// code (e.g. `{"resource": "file"}` for `not_found`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{detail}")]
// Read through a flat twin: serde's `flatten` buffers every error into an intermediate
// tree first, which costs the browser bundle a second decoder per type.
#[serde(from = "ApiErrorWire")]
pub struct ApiError {
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    /// The precise, stable reason (`stale_version`, `name_taken`, `illegal_transition`…);
    /// the `type` value when there is none more precise. Empty from older servers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    /// Human-readable explanation, safe to show to the user.
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// `payload_too_large`: the limit that was exceeded, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// `conflict` on a stale edit: where the document is now (`current_version`,
    /// `current_sha256`). Boxed: errors travel by value and are rarely this one.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<CurrentVersion>>,
    /// Facts that go with `code`, as a JSON object (absent when there are none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
}

/// Where a document is now, for a client whose edit was made on an older version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentVersion {
    /// Present only on a stale edit's conflict (as is `current_sha256`).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub current_version: u64,
    /// Hex sha256 of the current content.
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub current_sha256: String,
}

/// [`ApiError`] as it travels, with `current` spelled out.
#[derive(Deserialize)]
struct ApiErrorWire {
    #[serde(rename = "type")]
    kind: ErrorKind,
    #[serde(default)]
    code: String,
    detail: String,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    fields: Vec<FieldError>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    current_version: Option<u64>,
    #[serde(default)]
    current_sha256: Option<String>,
    #[serde(default)]
    details: Option<serde_json::Value>,
}

impl From<ApiErrorWire> for ApiError {
    fn from(wire: ApiErrorWire) -> Self {
        let current = match (wire.current_version, wire.current_sha256) {
            (Some(current_version), Some(current_sha256)) => Some(Box::new(CurrentVersion {
                current_version,
                current_sha256,
            })),
            _ => None,
        };
        Self {
            kind: wire.kind,
            code: wire.code,
            detail: wire.detail,
            request_id: wire.request_id,
            fields: wire.fields,
            limit: wire.limit,
            current,
            details: wire.details,
        }
    }
}

impl ApiError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            code: kind.as_str().to_owned(),
            detail: detail.into(),
            request_id: None,
            fields: Vec::new(),
            limit: None,
            current: None,
            details: None,
        }
    }

    /// The same error with a precise `code`.
    pub fn with_code(self, code: &str) -> Self {
        Self {
            code: code.to_owned(),
            ..self
        }
    }

    /// The same error with `details`.
    pub fn with_details(self, details: serde_json::Value) -> Self {
        Self {
            details: Some(details),
            ..self
        }
    }

    /// A 413 naming the limit in bytes.
    pub fn too_large(detail: impl Into<String>, limit: u64) -> Self {
        Self {
            limit: Some(limit),
            ..Self::new(ErrorKind::PayloadTooLarge, detail)
        }
    }

    /// A 422 naming the offending field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            fields: vec![FieldError {
                field: field.to_owned(),
                message: message.clone(),
            }],
            ..Self::new(ErrorKind::ValidationError, format!("{field}: {message}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reads_back_as_it_was_written() {
        let stale = ApiError {
            current: Some(Box::new(CurrentVersion {
                current_version: 3,
                current_sha256: "ab".into(),
            })),
            request_id: Some("r".into()),
            ..ApiError::invalid_field("version", "is stale")
        }
        .with_code("stale_version")
        .with_details(serde_json::json!({"resource": "file"}));
        let json = serde_json::to_value(&stale).unwrap();
        assert_eq!(json["current_version"], 3, "flat on the wire: {json}");
        assert_eq!(serde_json::from_value::<ApiError>(json).unwrap(), stale);
        let plain = ApiError::too_large("big", 10);
        let json = serde_json::to_string(&plain).unwrap();
        assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), plain);
    }
}
