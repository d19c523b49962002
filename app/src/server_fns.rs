//! Server functions: the UI's calls into the service layer. Each one is a thin
//! adapter; the services hold the rules. All of them send the CSRF header (see
//! [`CsrfClient`]); the ones a visitor needs before logging in live under `/api/ui/`
//! and are listed as public routes by the server.

use kiln_types::{ApiError, Page, PluginSummary, Project, SessionView, Snippet, TimelineEvent};
use leptos::prelude::*;

pub use crate::csrf_client::CsrfClient;
pub use chat::*;
pub use files::*;

mod chat;
mod files;

#[cfg(feature = "ssr")]
mod ssr {
    use http::{HeaderValue, StatusCode, header, request::Parts};
    use kiln_core::{
        Principal, ServiceError, Services,
        auth::{Session, cookies::CookiePolicy},
    };
    use kiln_types::{ApiError, ErrorKind};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    pub fn services() -> Result<Services, ApiError> {
        use_context::<Services>()
            .ok_or_else(|| ApiError::new(ErrorKind::InternalError, "services are not available"))
    }

    fn parts() -> Option<Parts> {
        use_context::<Parts>()
    }

    /// A form posted by the browser without JavaScript (it wants HTML back).
    fn is_plain_form_post(parts: &Parts) -> bool {
        parts.method == http::Method::POST
            && parts
                .headers
                .get(header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    }

    /// The envelope for `error`, with the request id and the status REST would answer
    /// with. A plain form post is answered with a redirect back to the page instead,
    /// which an error status would break.
    pub fn fail(error: ApiError) -> ApiError {
        let parts = parts();
        let request_id = parts
            .as_ref()
            .and_then(|parts| parts.headers.get("x-request-id"))
            .and_then(|id| id.to_str().ok())
            .map(str::to_owned);
        let error = ApiError {
            request_id,
            ..error
        };
        if parts.as_ref().is_some_and(is_plain_form_post) {
            return error;
        }
        if let (Some(response), Ok(status)) = (
            use_context::<ResponseOptions>(),
            StatusCode::from_u16(error.kind.http_status()),
        ) {
            response.set_status(status);
        }
        error
    }

    /// The edge of server functions: a server error is logged here, once, with its
    /// internal cause (the envelope never carries it).
    pub fn failed(error: ServiceError) -> ApiError {
        if error.is_server_error() {
            tracing::error!(cause = %error, "server function failed");
        }
        fail(error.to_api_error())
    }

    /// The caller, as the server's authentication layer found them.
    pub fn principal() -> Result<Principal, ApiError> {
        caller().ok_or_else(|| fail(ApiError::new(ErrorKind::Unauthorized, "log in first")))
    }

    /// The caller's project `id`: the proof project services take (401, 403, 404).
    pub async fn project_scope(id: &str) -> Result<kiln_core::access::ProjectScope, ApiError> {
        let principal = principal()?;
        kiln_core::access::project(&services()?.db, &principal, id)
            .await
            .map_err(failed)
    }

    /// The caller's file `id`: the proof file services take (401, 403, 404).
    pub async fn file_scope(id: &str) -> Result<kiln_core::access::FileScope, ApiError> {
        let principal = principal()?;
        kiln_core::access::file(&services()?.db, &principal, id)
            .await
            .map_err(failed)
    }

    /// The caller's thread `id` (401, 403, 404).
    pub async fn thread_scope(id: &str) -> Result<kiln_core::access::ThreadScope, ApiError> {
        let principal = principal()?;
        kiln_core::access::thread_accessible(&services()?.db, &principal, id)
            .await
            .map_err(failed)
    }

    /// A message with its Markdown rendered to sanitised HTML.
    pub fn rendered(message: kiln_types::Message) -> kiln_types::ChatMessage {
        let html = match message.role {
            kiln_types::MessageRole::User => {
                kiln_core::markdown::render_typed_markdown(&message.content)
            }
            kiln_types::MessageRole::Assistant => {
                kiln_core::markdown::render_markdown(&message.content)
            }
        };
        kiln_types::ChatMessage { html, message }
    }

    /// The caller, if logged in (for the routes anonymous visitors may call too).
    pub fn caller() -> Option<Principal> {
        parts().and_then(|parts| parts.extensions.get::<Principal>().cloned())
    }

    pub fn header_value(name: &str) -> Option<String> {
        parts()?
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    pub fn cookie(name: &str) -> Option<String> {
        let parts = parts()?;
        let values = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok());
        kiln_core::auth::cookies::find_cookie(values, name).map(str::to_owned)
    }

    pub fn set_cookies(cookies: [String; 3]) {
        if let Some(response) = use_context::<ResponseOptions>() {
            for cookie in cookies {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.append_header(header::SET_COOKIE, value);
                }
            }
        }
    }

    pub fn cookie_policy() -> CookiePolicy {
        use_context::<CookiePolicy>().unwrap_or_default()
    }

    /// After a login or registration: the session's cookies, and on to `next`.
    pub fn enter(session: Result<Session, ServiceError>, next: &str) -> Result<(), ApiError> {
        let session = session.map_err(failed)?;
        set_cookies(cookie_policy().session_cookies(&session));
        leptos_axum::redirect(super::safe_next(next));
        Ok(())
    }
}

/// Where to go after logging in: a path on this site, never another site.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.chars().all(|c| c.is_ascii_graphic());
    if local { next } else { "/" }
}

/// The visitor's account and CSRF token, or `None` for anonymous visitors.
#[server(prefix = "/api/ui", endpoint = "session", input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn current_session() -> Result<Option<SessionView>, ApiError> {
    let Some(principal) = ssr::caller() else {
        return Ok(None);
    };
    let auth = ssr::services()?.auth;
    let user = auth.me(&principal).await.map_err(ssr::failed)?;
    Ok(Some(SessionView {
        user,
        csrf_token: principal.csrf_token,
        refresh_after_secs: (auth.signer().ttl().as_secs() * 2 / 3).max(10),
    }))
}

#[server(prefix = "/api/ui", endpoint = "login", client = CsrfClient)]
pub async fn login(email: String, password: String, next: String) -> Result<(), ApiError> {
    let credentials = kiln_types::Credentials { email, password };
    let session = ssr::services()?.auth.login(credentials).await;
    ssr::enter(session, &next)
}

#[server(prefix = "/api/ui", endpoint = "register", client = CsrfClient)]
pub async fn register(email: String, password: String, next: String) -> Result<(), ApiError> {
    let credentials = kiln_types::Credentials { email, password };
    let session = ssr::services()?.auth.register(credentials).await;
    ssr::enter(session, &next)
}

#[server(prefix = "/api/ui", endpoint = "logout", client = CsrfClient)]
pub async fn logout() -> Result<(), ApiError> {
    let auth = ssr::services()?.auth;
    if let Some(token) = ssr::cookie(kiln_types::REFRESH_COOKIE) {
        auth.logout(&token).await.map_err(ssr::failed)?;
    }
    if let Some(principal) = ssr::caller() {
        auth.end_session(&principal).await.map_err(ssr::failed)?;
    }
    ssr::set_cookies(ssr::cookie_policy().cleared_cookies());
    leptos_axum::redirect("/login");
    Ok(())
}

/// Renews the access cookie before it expires (the page calls this periodically).
#[server(prefix = "/api/ui", endpoint = "refresh", client = CsrfClient)]
pub async fn refresh_session() -> Result<(), ApiError> {
    let token = ssr::cookie(kiln_types::REFRESH_COOKIE).ok_or_else(|| {
        ssr::fail(ApiError::new(
            kiln_types::ErrorKind::Unauthorized,
            "no session to refresh",
        ))
    })?;
    let csrf = ssr::header_value(kiln_types::CSRF_HEADER).unwrap_or_default();
    let session = ssr::services()?
        .auth
        .renew(&token, Some(&csrf))
        .await
        .map_err(ssr::failed)?;
    ssr::set_cookies(ssr::cookie_policy().session_cookies(&session));
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "password", client = CsrfClient)]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), ApiError> {
    let principal = ssr::principal()?;
    let change = kiln_types::ChangePassword {
        current_password,
        new_password,
    };
    let session = ssr::services()?
        .auth
        .change_password(&principal, change)
        .await
        .map_err(ssr::failed)?;
    ssr::set_cookies(ssr::cookie_policy().session_cookies(&session));
    Ok(())
}

/// A page of the caller's projects, most recently active first.
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn list_projects(after: Option<String>) -> Result<Page<Project>, ApiError> {
    let principal = ssr::principal()?;
    let query = kiln_types::PageQuery {
        limit: Some(50),
        after,
        ..Default::default()
    };
    let request = kiln_core::pagination::PageRequest::from_query(&query).map_err(ssr::fail)?;
    ssr::services()?
        .projects
        .list(&principal, &request)
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn update_project(
    id: String,
    name: String,
    description: String,
    model: String,
    instructions: String,
) -> Result<Project, ApiError> {
    let scope = ssr::project_scope(&id).await?;
    let patch = kiln_types::ProjectPatch {
        name: Some(name),
        description: Some(description),
        settings: Some(kiln_types::SettingsPatch {
            model: Some(model),
            instructions: Some(instructions),
        }),
    };
    ssr::services()?
        .projects
        .update(&scope, patch)
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn change_project_status(id: String, status: String) -> Result<Project, ApiError> {
    let scope = ssr::project_scope(&id).await?;
    let status = kiln_types::ProjectStatus::parse(&status).ok_or_else(|| {
        ssr::fail(ApiError::invalid_field(
            "status",
            "must be active, paused or archived",
        ))
    })?;
    ssr::services()?
        .projects
        .change_status(&scope, status)
        .await
        .map_err(ssr::failed)
}

/// Deletes the project, then goes back to the list.
#[server(client = CsrfClient)]
pub async fn delete_project(id: String) -> Result<(), ApiError> {
    let scope = ssr::project_scope(&id).await?;
    ssr::services()?
        .projects
        .delete(&scope)
        .await
        .map_err(ssr::failed)?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The newest events of a project.
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn project_timeline(id: String) -> Result<Page<TimelineEvent>, ApiError> {
    let scope = ssr::project_scope(&id).await?;
    ssr::services()?
        .timeline
        .for_project(&scope, &Default::default())
        .await
        .map_err(ssr::failed)
}

#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn get_project(id: String) -> Result<Project, ApiError> {
    let scope = ssr::project_scope(&id).await?;
    ssr::services()?
        .projects
        .get(&scope)
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn create_project(name: String, description: String) -> Result<Project, ApiError> {
    let principal = ssr::principal()?;
    ssr::services()?
        .projects
        .create(&principal, kiln_types::NewProject { name, description })
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn extract_snippets(markdown: String) -> Result<Vec<Snippet>, ApiError> {
    ssr::principal()?;
    ssr::services()?
        .snippets
        .extract(markdown)
        .await
        .map_err(ssr::failed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed_after_login() {
        use super::safe_next;
        assert_eq!(safe_next("/projects/1?tab=files"), "/projects/1?tab=files");
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "/a\nb",
            "/é",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}

/// Every plugin with its status and counters (administrators only).
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn admin_plugins() -> Result<Vec<PluginSummary>, ApiError> {
    let principal = ssr::principal()?;
    kiln_core::access::require_admin(&principal).map_err(ssr::failed)?;
    Ok(ssr::services()?.plugins.list())
}

/// Enables or disables a plugin (administrators only).
#[server(client = CsrfClient)]
pub async fn set_plugin_enabled(id: String, enabled: bool) -> Result<PluginSummary, ApiError> {
    let principal = ssr::principal()?;
    kiln_core::access::require_admin(&principal).map_err(ssr::failed)?;
    let patch = kiln_types::PluginPatch {
        enabled: Some(enabled),
        priority: None,
    };
    ssr::services()?
        .plugins
        .update(&id, patch)
        .await
        .map_err(ssr::failed)
}

/// Rediscovers the plugin directories (administrators only).
#[server(client = CsrfClient)]
pub async fn reload_plugins() -> Result<Vec<PluginSummary>, ApiError> {
    let principal = ssr::principal()?;
    kiln_core::access::require_admin(&principal).map_err(ssr::failed)?;
    ssr::services()?.plugins.reload().await.map_err(ssr::failed)
}
