//! `/api/auth/*`: accounts and sessions for browsers (cookies) and API clients (bodies).

use axum::{
    Extension, Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use kiln_core::{Principal, auth::Session};
use kiln_types::{
    ApiError, CSRF_HEADER, ChangePassword, Credentials, REFRESH_COOKIE, RefreshRequest,
    TokenResponse, User,
};

use super::{
    ApiErrorResponse, AppState,
    json::ApiJson,
    session::{CurrentUser, cookie, set_cookies},
};

/// The tokens in the body for API clients, and as cookies for browsers. Never cached.
fn session_response(state: &AppState, status: StatusCode, session: &Session) -> Response {
    let mut response = (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(session.token_response()),
    )
        .into_response();
    set_cookies(
        response.headers_mut(),
        state.cookie_policy().session_cookies(session),
    );
    response
}

/// The refresh token from the body (API clients) or the cookie (browsers, who must then
/// prove the request is theirs with the CSRF header).
fn presented_refresh_token(
    headers: &HeaderMap,
    body: Option<RefreshRequest>,
) -> Option<(String, Option<String>)> {
    if let Some(token) = body.and_then(|body| body.refresh_token) {
        return Some((token, None));
    }
    let token = cookie(headers, REFRESH_COOKIE)?;
    let csrf = headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    Some((token.to_owned(), Some(csrf.to_owned())))
}

/// Create an account and log in.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 201, description = "Account created and logged in; session cookies set", body = TokenResponse),
        (status = 403, description = "Registration is closed", body = ApiError),
        (status = 409, description = "The email is taken", body = ApiError),
        (status = 422, description = "Invalid email or password", body = ApiError),
        (status = 429, description = "Too many attempts", body = ApiError),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<Response, ApiErrorResponse> {
    let session = state.services.auth.register(credentials).await?;
    Ok(session_response(&state, StatusCode::CREATED, &session))
}

/// Log in with email and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in; session cookies set", body = TokenResponse),
        (status = 401, description = "Invalid email or password", body = ApiError),
        (status = 429, description = "Too many attempts", body = ApiError),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<Response, ApiErrorResponse> {
    let session = state.services.auth.login(credentials).await?;
    Ok(session_response(&state, StatusCode::OK, &session))
}

/// Exchange a refresh token for a new token pair. The presented token is spent;
/// presenting it again ends the session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "API clients send the refresh token; browsers send the cookie and the X-CSRF-Token header"),
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or replayed refresh token", body = ApiError),
        (status = 403, description = "Cookie refresh without the CSRF token", body = ApiError),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Option<ApiJson<RefreshRequest>>,
) -> Result<Response, ApiErrorResponse> {
    let (token, csrf) = presented_refresh_token(&headers, body.map(|ApiJson(body)| body))
        .ok_or_else(|| {
            ApiError::new(
                kiln_types::ErrorKind::Unauthorized,
                "no refresh token presented",
            )
        })?;
    let session = state.services.auth.refresh(&token, csrf.as_deref()).await?;
    Ok(session_response(&state, StatusCode::OK, &session))
}

/// End the session: its refresh tokens are revoked and the cookies cleared. The session
/// is the one of the presented refresh token, or of the access token.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "API clients send their refresh token; browsers send the cookie"),
    responses((status = 204, description = "Logged out (also when already logged out)")))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    principal: Option<Extension<Principal>>,
    body: Option<ApiJson<RefreshRequest>>,
) -> Result<Response, ApiErrorResponse> {
    let auth = &state.services.auth;
    if let Some((token, _)) = presented_refresh_token(&headers, body.map(|ApiJson(body)| body)) {
        auth.logout(&token).await?;
    }
    if let Some(Extension(principal)) = principal {
        auth.end_session(&principal).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookies(
        response.headers_mut(),
        state.cookie_policy().cleared_cookies(),
    );
    Ok(response)
}

/// The account behind the presented credentials.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, description = "Not logged in", body = ApiError),
    ))]
pub async fn me(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<User>, ApiErrorResponse> {
    Ok(Json(state.services.auth.me(&principal).await?))
}

/// Change the password. Every other session of the account ends; the caller gets a
/// fresh one.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Changed; a new session", body = TokenResponse),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 422, description = "Wrong current password or a weak new one", body = ApiError),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ApiJson(change): ApiJson<ChangePassword>,
) -> Result<Response, ApiErrorResponse> {
    let session = state
        .services
        .auth
        .change_password(&principal, change)
        .await?;
    Ok(session_response(&state, StatusCode::OK, &session))
}
