//! Project- and file-scoped routes check ownership while extracting the path, before
//! the body is even parsed: a stranger gets 403 whatever they send, never a validation
//! error. The extractors hand the handler the proof (a scope) the service takes.

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use kiln_core::access::{self, FileScope, MessageScope, ProjectScope, ThreadScope};

use super::{ApiErrorResponse, AppState, session::CurrentUser};

/// `{project_id}` of a project the caller owns.
pub struct OwnedProject(pub ProjectScope);

impl FromRequestParts<AppState> for OwnedProject {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        let Path(project_id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        access::project(&state.services.db, &principal, &project_id)
            .await
            .map(Self)
            .map_err(|error| ApiErrorResponse::from(error).into_response())
    }
}

/// `{file_id}` of a file in a project the caller owns.
pub struct OwnedFile(pub FileScope);

impl FromRequestParts<AppState> for OwnedFile {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        let file_id = match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => id,
            // `/api/files/{file_id}/versions/{version}`
            Err(_) => {
                Path::<(String, String)>::from_request_parts(parts, state)
                    .await
                    .map_err(IntoResponse::into_response)?
                    .0
                    .0
            }
        };
        access::file(&state.services.db, &principal, &file_id)
            .await
            .map(Self)
            .map_err(|error| ApiErrorResponse::from(error).into_response())
    }
}

/// `{thread_id}` of a thread in a project the caller owns.
pub struct OwnedThread(pub ThreadScope);

impl FromRequestParts<AppState> for OwnedThread {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        let Path(thread_id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        access::thread_accessible(&state.services.db, &principal, &thread_id)
            .await
            .map(Self)
            .map_err(|error| ApiErrorResponse::from(error).into_response())
    }
}

/// `{message_id}` of a message in a thread the caller may read.
pub struct OwnedMessage(pub MessageScope);

impl FromRequestParts<AppState> for OwnedMessage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        let Path(message_id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        access::message(&state.services.db, &principal, &message_id)
            .await
            .map(Self)
            .map_err(|error| ApiErrorResponse::from(error).into_response())
    }
}
