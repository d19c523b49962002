use kiln_plugin_host::PluginError;
use kiln_types::{ApiError, CurrentVersion, ErrorKind, FieldError};
use serde_json::json;

use crate::store::DbError;

/// Everything a service call can fail with, by kind. Transports turn it into the one
/// envelope with [`ServiceError::to_api_error`] (pure: it logs nothing) and log it once,
/// at their edge.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 400: the request cannot be understood as it is.
    #[error("{0}")]
    BadRequest(String),
    /// 422: the request is understood, but fields break the rules.
    #[error("{detail}")]
    Validation {
        detail: String,
        fields: Vec<FieldError>,
    },
    /// 401: no (valid) session.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: `resource` (`project`, `file`, `file_version`, …) does not exist.
    #[error("{detail}")]
    NotFound {
        resource: &'static str,
        detail: String,
    },
    /// 409: the request clashes with the current state.
    #[error("{0}")]
    Conflict(Conflict),
    /// 413: `what` is larger than `limit` bytes.
    #[error("{detail}")]
    TooLarge { detail: String, limit: u64 },
    /// 503: something Kiln depends on is not available now.
    #[error("{0}")]
    Unavailable(String),
    /// 503: the language model cannot answer (`code`: `no_llm_configured`,
    /// `llm_unavailable`); `detail` is written for people.
    #[error("{detail}")]
    Llm { code: &'static str, detail: String },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Database(#[from] DbError),
    /// 500: a bug or a broken dependency; the text is for the log only.
    #[error("{0}")]
    Internal(String),
}

/// Why a request clashes with the current state (409), each with its `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// An edit made on an outdated version (`stale_version`).
    #[error("the file changed since you opened it: it is now at version {current_version}")]
    StaleVersion {
        current_version: u64,
        /// Hex SHA-256 of the current content.
        current_sha256: String,
    },
    /// A unique name or path is in use (`name_taken`).
    #[error("{0}")]
    NameTaken(String),
    /// The project is archived, so read-only (`archived`).
    #[error("{0}")]
    Archived(String),
    /// A status move the state machine does not allow (`illegal_transition`).
    #[error("{0}")]
    IllegalTransition(String),
    /// The thing is deleted and must be restored first (`deleted`).
    #[error("{0}")]
    Deleted(String),
    /// The thing exists already (`already_exists`).
    #[error("{0}")]
    AlreadyExists(String),
    /// Built into Kiln, so it cannot be removed (`protected`).
    #[error("{0}")]
    Protected(String),
    /// A concurrent change won; trying again can succeed (`concurrent_change`).
    #[error("{0}")]
    Concurrent(String),
    /// A reply is being generated in the thread; stop it or wait (`reply_in_progress`).
    #[error("{0}")]
    ReplyInProgress(String),
    /// The message keeps no more earlier versions (`edit_limit`).
    #[error("{0}")]
    EditLimit(String),
}

impl Conflict {
    /// The envelope's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::StaleVersion { .. } => "stale_version",
            Self::NameTaken(_) => "name_taken",
            Self::Archived(_) => "archived",
            Self::IllegalTransition(_) => "illegal_transition",
            Self::Deleted(_) => "deleted",
            Self::AlreadyExists(_) => "already_exists",
            Self::Protected(_) => "protected",
            Self::Concurrent(_) => "concurrent_change",
            Self::ReplyInProgress(_) => "reply_in_progress",
            Self::EditLimit(_) => "edit_limit",
        }
    }
}

impl From<Conflict> for ServiceError {
    fn from(conflict: Conflict) -> Self {
        Self::Conflict(conflict)
    }
}

impl ServiceError {
    /// A 422 naming the offending field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Validation {
            detail: format!("{field}: {message}"),
            fields: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
        }
    }

    /// A 404 for `resource`.
    pub fn not_found(resource: &'static str, detail: impl Into<String>) -> Self {
        Self::NotFound {
            resource,
            detail: detail.into(),
        }
    }

    /// A 413 naming the limit in bytes.
    pub fn too_large(detail: impl Into<String>, limit: u64) -> Self {
        Self::TooLarge {
            detail: detail.into(),
            limit,
        }
    }

    /// Whether this is a failure of Kiln or a dependency (5xx) rather than of the
    /// request: the edge logs these as errors, with their internal text.
    pub fn is_server_error(&self) -> bool {
        self.to_api_error().kind.http_status() >= 500
    }

    /// The envelope a client sees. Side-effect free: internal details (database and
    /// plugin messages) stay out of it, and the caller logs.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            Self::BadRequest(detail) => ApiError::new(ErrorKind::BadRequest, detail),
            Self::Validation { detail, fields } => ApiError {
                fields: fields.clone(),
                ..ApiError::new(ErrorKind::ValidationError, detail)
            },
            Self::Unauthorized(detail) => ApiError::new(ErrorKind::Unauthorized, detail),
            Self::Forbidden(detail) => ApiError::new(ErrorKind::Forbidden, detail),
            Self::NotFound { resource, detail } => ApiError::new(ErrorKind::NotFound, detail)
                .with_details(json!({ "resource": resource })),
            Self::Conflict(conflict) => {
                let error = ApiError::new(ErrorKind::Conflict, conflict.to_string())
                    .with_code(conflict.code());
                match conflict {
                    Conflict::StaleVersion {
                        current_version,
                        current_sha256,
                    } => ApiError {
                        current: Some(Box::new(CurrentVersion {
                            current_version: *current_version,
                            current_sha256: current_sha256.clone(),
                        })),
                        ..error
                    },
                    _ => error,
                }
            }
            Self::TooLarge { detail, limit } => ApiError::too_large(detail.clone(), *limit),
            Self::Unavailable(detail) => ApiError::new(ErrorKind::ServiceUnavailable, detail),
            Self::Llm { code, detail } => {
                ApiError::new(ErrorKind::ServiceUnavailable, detail).with_code(code)
            }
            Self::Plugin(PluginError::InputTooLarge { size, limit }) => ApiError::too_large(
                format!("input of {size} bytes exceeds the limit of {limit} bytes"),
                u64::try_from(*limit).unwrap_or(u64::MAX),
            ),
            // The plugin's own words (trap text, stderr) are logged, not shown.
            Self::Plugin(error) => ApiError::new(
                ErrorKind::ServiceUnavailable,
                format!("the plugin failed: {}", error.code()),
            )
            .with_code("plugin_failed")
            .with_details(json!({ "reason": error.code() })),
            // A write that kept losing to concurrent ones, or a uniqueness the service
            // did not name: the request clashes with the current state, nothing broke.
            Self::Database(DbError::Conflict) => ApiError::new(
                ErrorKind::Conflict,
                "the data changed while this request ran; try again",
            )
            .with_code(Conflict::Concurrent(String::new()).code()),
            Self::Database(DbError::Unique { .. }) => {
                ApiError::new(ErrorKind::Conflict, "this already exists")
                    .with_code(Conflict::AlreadyExists(String::new()).code())
            }
            // Every id comes from a path or a body: one that cannot exist is not found,
            // on every route alike.
            Self::Database(DbError::InvalidId) => ApiError::new(
                ErrorKind::NotFound,
                "no such record: that is not a valid id",
            ),
            Self::Database(DbError::Unavailable(_)) => ApiError::new(
                ErrorKind::ServiceUnavailable,
                "the database is not available; try again shortly",
            )
            .with_code("database_unavailable"),
            Self::Database(_) | Self::Internal(_) => {
                ApiError::new(ErrorKind::InternalError, "internal error")
            }
        }
    }
}

impl From<surrealdb::Error> for ServiceError {
    fn from(error: surrealdb::Error) -> Self {
        Self::Database(DbError::from(error))
    }
}

/// Validation rules shared with the browser (kiln-types) answer with the envelope;
/// here it becomes the typed error it stands for.
impl From<ApiError> for ServiceError {
    fn from(error: ApiError) -> Self {
        match error.kind {
            ErrorKind::ValidationError => Self::Validation {
                detail: error.detail,
                fields: error.fields,
            },
            ErrorKind::PayloadTooLarge => Self::TooLarge {
                detail: error.detail,
                limit: error.limit.unwrap_or(0),
            },
            ErrorKind::Unauthorized => Self::Unauthorized(error.detail),
            ErrorKind::Forbidden => Self::Forbidden(error.detail),
            _ => Self::BadRequest(error.detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_version_keeps_its_fields_and_gains_a_code() {
        let error = ServiceError::from(Conflict::StaleVersion {
            current_version: 4,
            current_sha256: "ab".into(),
        })
        .to_api_error();
        let body = serde_json::to_value(&error).unwrap();
        assert_eq!(body["type"], "conflict");
        assert_eq!(body["code"], "stale_version");
        assert_eq!(body["current_version"], 4);
        assert_eq!(body["current_sha256"], "ab");
    }

    #[test]
    fn internal_text_never_reaches_the_envelope() {
        let error = ServiceError::Internal("SELECT * FROM secret".into()).to_api_error();
        assert_eq!(error.detail, "internal error");
        assert_eq!(error.code, "internal_error");
        let missing = ServiceError::not_found("file", "no file \"x\"").to_api_error();
        assert_eq!(missing.details, Some(json!({ "resource": "file" })));
    }
}
