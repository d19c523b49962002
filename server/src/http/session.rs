//! Who is calling: bearer tokens for API clients, cookies for browsers (with CSRF), and
//! the rule that every route needs a user unless its policy makes it public.

use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use kiln_core::{
    Principal,
    auth::cookies::{CookiePolicy, find_cookie},
};
use kiln_types::{
    ACCESS_COOKIE, ApiError, CSRF_FORM_FIELD, CSRF_HEADER, ErrorKind, REFRESH_COOKIE,
};
use subtle::ConstantTimeEq;

use super::{Access, ApiErrorResponse, AppState};

fn unauthorized(detail: &str) -> Response {
    ApiErrorResponse::from(ApiError::new(ErrorKind::Unauthorized, detail)).into_response()
}

fn csrf_refused() -> Response {
    ApiErrorResponse::from(ApiError::new(
        ErrorKind::Forbidden,
        format!("missing or invalid CSRF token: send the {CSRF_HEADER} header"),
    ))
    .into_response()
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok());
    find_cookie(values, name)
}

/// A top-level page load in a browser.
fn is_page_navigation(request: &Request) -> bool {
    let path = request.uri().path();
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// Finds the caller's [`Principal`] and puts it into the request's extensions.
///
/// - `Authorization: Bearer` wins; an invalid one is a 401 at once.
/// - The access cookie: an expired one counts as no cookie; a valid one on a
///   state-changing request must come with the CSRF token, in the header or (for forms
///   posted without JavaScript) the form field.
/// - A page load without a valid access token but with a refresh cookie refreshes the
///   session on the spot, so a returning user is not sent to the login page.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let auth = &state.services.auth;
    if !request.method().is_safe() && is_cross_site(&request, &state) {
        return ApiErrorResponse::from(ApiError::new(
            ErrorKind::Forbidden,
            "cross-site requests may not change anything",
        ))
        .into_response();
    }
    let public = state
        .routes
        .is_public(request.method(), request.uri().path());
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token);
        let Some(token) = token else {
            return unauthorized("the Authorization header must be `Bearer <access token>`");
        };
        match auth.verify_access_token(token.trim()) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                return next.run(request).await;
            }
            // A stale token must not lock a client out of refreshing or logging out.
            Err(error) if public => {
                tracing::debug!(%error, "bearer token ignored on a public route")
            }
            Err(error) => {
                tracing::debug!(%error, "bearer token refused");
                return unauthorized("the access token is invalid or has expired");
            }
        }
    }
    let from_cookie = cookie(request.headers(), ACCESS_COOKIE)
        .and_then(|token| auth.verify_access_token(token).ok());
    if let Some(principal) = from_cookie {
        if !request.method().is_safe() {
            request = match check_csrf(
                request,
                &principal.csrf_token,
                state.settings.json_body_limit,
            )
            .await
            {
                Ok(request) => request,
                Err(response) => return response,
            };
        }
        request.extensions_mut().insert(principal);
        return next.run(request).await;
    }
    if is_page_navigation(&request)
        && let Some(refresh_token) = cookie(request.headers(), REFRESH_COOKIE).map(str::to_owned)
    {
        let policy = state.cookie_policy();
        return match auth.renew(&refresh_token, None).await {
            Ok(session) => {
                request.extensions_mut().insert(session.principal.clone());
                let mut response = next.run(request).await;
                set_cookies(response.headers_mut(), policy.session_cookies(&session));
                response
            }
            Err(error) => {
                tracing::debug!(%error, "session could not be renewed");
                let ended = error.to_api_error().kind == ErrorKind::Unauthorized;
                let mut response = next.run(request).await;
                // A dead session's cookies go; a database hiccup keeps them for next time.
                if ended {
                    set_cookies(response.headers_mut(), policy.cleared_cookies());
                }
                response
            }
        };
    }
    next.run(request).await
}

/// A state-changing request a browser says comes from another site (login CSRF, or
/// any form another site submits), unless that site is an allowed CORS origin.
/// Non-browser clients send no `Sec-Fetch-Site` and are not affected.
fn is_cross_site(request: &Request, state: &AppState) -> bool {
    let site = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok());
    if !matches!(site, Some("cross-site" | "same-site")) {
        return false;
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    !matches!((&state.settings.cors, origin), (super::CorsOrigins::List(list), Some(origin)) if list.iter().any(|o| o == origin))
}

pub fn set_cookies(headers: &mut HeaderMap, cookies: [String; 3]) {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
}

/// The double-submit check, bound to the session: the token must equal the one signed
/// into the access token, so a cookie planted by a sibling subdomain cannot pass.
async fn check_csrf(
    request: Request,
    expected: &str,
    body_limit: usize,
) -> Result<Request, Response> {
    let matches = |presented: &str| bool::from(presented.as_bytes().ct_eq(expected.as_bytes()));
    if let Some(presented) = request.headers().get(CSRF_HEADER) {
        return match presented.to_str() {
            Ok(presented) if matches(presented) => Ok(request),
            _ => Err(csrf_refused()),
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(csrf_refused());
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, body_limit).await.map_err(|_| {
        ApiErrorResponse::from(ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!("request bodies are limited to {body_limit} bytes"),
        ))
        .into_response()
    })?;
    let presented = form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == CSRF_FORM_FIELD)
        .map(|(_, value)| value.into_owned());
    match presented {
        Some(presented) if matches(&presented) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(csrf_refused()),
    }
}

/// Route layer: what the matched route's policy asks for. A user everywhere but on
/// public routes (and on a route the table does not know: private by default);
/// administrator routes refuse other users (403) before anything else runs. Pages
/// redirect visitors to the login page (which brings them back afterwards); the API
/// answers 401.
pub async fn require_access(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let access = match state.routes.policy(request.method(), path) {
        Some(policy) => policy.access,
        None => match state.routes.other_method_access(request.method(), path) {
            // The router answers 405 itself; no handler runs.
            Some(access) => access,
            None => {
                tracing::error!(method = %request.method(), path, "a route without a policy: treated as private");
                Access::User
            }
        },
    };
    match (access, request.extensions().get::<Principal>()) {
        (Access::Public, _) | (Access::User, Some(_)) => return next.run(request).await,
        (Access::Admin, Some(principal)) => {
            return match kiln_core::access::require_admin(principal) {
                Ok(()) => next.run(request).await,
                Err(error) => ApiErrorResponse::from(error).into_response(),
            };
        }
        (Access::User | Access::Admin, None) => {}
    }
    if is_page_navigation(&request) {
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str());
        let next: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    unauthorized("log in first: this route needs an access token or a session cookie")
}

/// Extractor for handlers that need the caller (they all sit behind [`require_access`];
/// this is the second lock on the door).
pub struct CurrentUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Self)
            .ok_or_else(|| unauthorized("log in first"))
    }
}

/// Extractor for administrator-only handlers: refuses anyone else (403) before the
/// request body is looked at.
pub struct Administrator;

impl<S: Send + Sync> FromRequestParts<S> for Administrator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        kiln_core::access::require_admin(&principal)
            .map_err(|error| super::ApiErrorResponse::from(error).into_response())?;
        Ok(Self)
    }
}

/// The cookie policy of this server, for handlers that start or end sessions.
impl AppState {
    pub fn cookie_policy(&self) -> CookiePolicy {
        CookiePolicy {
            secure: self.settings.secure_cookies,
        }
    }
}
