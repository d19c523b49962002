use kiln_plugin_host::PluginError;
use kiln_types::{ApiError, ErrorKind};

/// Everything a service call can fail with. Transports turn it into an [`ApiError`].
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(ApiError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("database: {0}")]
    Database(#[from] surrealdb::Error),
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// The envelope a client sees. Internal details go to the log (with the request's
    /// span, hence its id), never to the client.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            Self::Invalid(error) => error.clone(),
            Self::Unauthorized(detail) => ApiError::new(ErrorKind::Unauthorized, detail),
            Self::Forbidden(detail) => ApiError::new(ErrorKind::Forbidden, detail),
            Self::NotFound(detail) => ApiError::new(ErrorKind::NotFound, detail),
            Self::Conflict(detail) => ApiError::new(ErrorKind::Conflict, detail),
            Self::Unavailable(detail) => ApiError::new(ErrorKind::ServiceUnavailable, detail),
            Self::Plugin(PluginError::InputTooLarge { size, limit }) => ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!("input of {size} bytes exceeds the limit of {limit} bytes"),
            ),
            // The plugin's own words (trap text, stderr) are logged, not shown.
            Self::Plugin(error) => ApiError::new(
                ErrorKind::ServiceUnavailable,
                format!("the plugin failed: {}", error.code()),
            ),
            Self::Database(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "internal error");
                ApiError::new(ErrorKind::InternalError, "internal error")
            }
        }
    }
}

impl From<ApiError> for ServiceError {
    fn from(error: ApiError) -> Self {
        Self::Invalid(error)
    }
}
