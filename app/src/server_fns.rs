//! Server functions: the UI's calls into the service layer. Each one is a thin
//! adapter; the services hold the rules.

use kiln_types::{ApiError, Project, Snippet};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn services() -> Result<kiln_core::Services, ApiError> {
    use_context::<kiln_core::Services>().ok_or_else(|| {
        ApiError::new(
            kiln_types::ErrorKind::InternalError,
            "services are not available",
        )
    })
}

/// The service error as the envelope, with the HTTP status REST would answer with.
/// A plain HTML form post (no JavaScript) is answered with a redirect back to the
/// page instead, which an error status would break.
#[cfg(feature = "ssr")]
fn failed(error: kiln_core::ServiceError) -> ApiError {
    let error = error.to_api_error();
    let html_form_post = use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    if html_form_post {
        return error;
    }
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(error.kind.http_status()),
    ) {
        response.set_status(status);
    }
    error
}

#[server]
pub async fn list_projects() -> Result<Vec<Project>, ApiError> {
    services()?.projects.list().await.map_err(failed)
}

#[server]
pub async fn create_project(name: String, description: String) -> Result<Project, ApiError> {
    services()?
        .projects
        .create(kiln_types::NewProject { name, description })
        .await
        .map_err(failed)
}

#[server]
pub async fn extract_snippets(markdown: String) -> Result<Vec<Snippet>, ApiError> {
    services()?.snippets.extract(markdown).await.map_err(failed)
}
