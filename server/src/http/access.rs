//! Project-scoped routes check ownership while extracting the path, before the body is
//! even parsed: a stranger gets 403 whatever they send, never a validation error.

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use kiln_core::{Principal, access::require_project_owner};

use super::{ApiErrorResponse, AppState, session::CurrentUser};

/// `{project_id}` of a project the caller owns, and the caller.
pub struct OwnedProject {
    pub principal: Principal,
    pub project_id: String,
}

impl FromRequestParts<AppState> for OwnedProject {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        let Path(project_id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        require_project_owner(&state.services.db, &principal, &project_id)
            .await
            .map_err(|error| ApiErrorResponse::from(error).into_response())?;
        Ok(Self {
            principal,
            project_id,
        })
    }
}
