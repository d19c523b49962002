//! A thread's WebSocket: `GET /api/threads/{thread_id}/ws`.
//!
//! The caller is authenticated (cookie or bearer, never the query string) and
//! authorised for the thread BEFORE the upgrade, and a cookie-authenticated upgrade
//! from a foreign `Origin` is refused (cross-site WebSocket hijacking). After it, the
//! socket is two tasks: a reader that runs commands through the chat service (each
//! re-checked against the thread, rate-limited per connection) and a writer that
//! drains the connection's bounded queue, filled by the [`Connections`] manager
//! without ever waiting for the socket.

mod connections;
mod reader;
mod stream_filter;

use std::time::Duration;

use axum::{
    extract::{State, WebSocketUpgrade, ws::WebSocket},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use kiln_core::{Principal, access::ThreadScope};
use kiln_types::{ApiError, ErrorKind};
use tracing::Instrument;

pub use connections::Connections;

use super::{ApiErrorResponse, AppState, access::OwnedThread, session::CurrentUser};

/// Chat WebSocket limits (`KILN_WS_*`).
#[derive(Debug, Clone)]
pub struct WsSettings {
    /// `KILN_WS_HEARTBEAT_SECS`: how often the server pings.
    pub heartbeat: Duration,
    /// `KILN_WS_MAX_MISSED_PONGS`: pings left unanswered before the socket is closed.
    pub missed_pongs: u32,
    /// `KILN_WS_QUEUE_CAPACITY`: frames waiting for a client before it is dropped as
    /// too slow.
    pub queue_capacity: usize,
    /// `KILN_WS_COMMANDS_PER_MINUTE`: commands one connection may send per minute.
    pub commands_per_minute: u32,
    /// `KILN_WS_MAX_SOCKETS_PER_USER`: open chat sockets per user (429 beyond).
    pub max_sockets_per_user: usize,
    /// `KILN_WS_MAX_FRAME_BYTES`: the largest frame a client may send (close 1009
    /// beyond).
    pub max_frame_bytes: usize,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(30),
            missed_pongs: 2,
            queue_capacity: 512,
            commands_per_minute: 120,
            max_sockets_per_user: 32,
            max_frame_bytes: 256 * 1024,
        }
    }
}

/// Close codes (RFC 6455 §7.4.1).
pub(crate) mod close {
    /// The session ended or expired, or the client broke the rules.
    pub const POLICY: u16 = 1008;
    /// A frame over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server is going away (shutdown) or the client fell behind.
    pub const GOING_AWAY: u16 = 1001;
    /// Try again later: the client could not keep up with the thread.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The thread was deleted (application range 4000–4999; 404 as in HTTP): do not
    /// reconnect.
    pub const THREAD_DELETED: u16 = 4404;
}

/// Upgrade to the thread's WebSocket.
#[utoipa::path(get, path = "/api/threads/{thread_id}/ws", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol: JSON text frames (see the README)"),
        (status = 400, description = "Not a WebSocket upgrade request", body = ApiError),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread, or a foreign Origin", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
        (status = 429, description = "Too many open sockets", body = ApiError),
    ))]
pub async fn upgrade(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    OwnedThread(scope): OwnedThread,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !headers.contains_key(header::AUTHORIZATION) && !same_origin(&headers, &state) {
        tracing::info!(user = %principal.user_id, "chat socket refused: foreign Origin");
        return ApiErrorResponse::from(ApiError::new(
            ErrorKind::Forbidden,
            "this origin may not open Kiln's sockets with a session cookie",
        ))
        .into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiErrorResponse::from(ApiError::new(
                ErrorKind::BadRequest,
                format!("not a WebSocket upgrade: {}", rejection.body_text()),
            ))
            .into_response();
        }
    };
    let settings = state.settings.ws.clone();
    let Some(slot) = state
        .connections
        .reserve(&principal.user_id, settings.max_sockets_per_user)
    else {
        return ApiErrorResponse::from(ApiError::new(
            ErrorKind::RateLimitExceeded,
            format!(
                "at most {} chat sockets may be open at once; close one first",
                settings.max_sockets_per_user
            ),
        ))
        .into_response();
    };
    // Frames a little over the limit still reach the reader, which answers them with
    // a typed close; far larger ones are cut off by the protocol layer.
    upgrade
        .max_message_size(settings.max_frame_bytes.saturating_mul(2))
        .max_frame_size(settings.max_frame_bytes.saturating_mul(2))
        .on_upgrade(move |socket| serve(socket, state, principal, scope, slot))
}

/// The origin of `Origin` is Kiln's own (the `Host` it was reached at, or
/// `KILN_PUBLIC_URL`'s) or one of `CORS_ORIGINS`. No `Origin`: not a browser, so no
/// hijacking to fear.
fn same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    if (origin_host.is_some() && origin_host == host)
        || state.settings.public_origin.as_deref() == Some(origin)
    {
        return true;
    }
    match &state.settings.cors {
        super::CorsOrigins::List(list) => list.iter().any(|allowed| allowed == origin),
        _ => false,
    }
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    principal: Principal,
    scope: ThreadScope,
    slot: connections::Slot,
) {
    let span = tracing::info_span!("chat_socket", thread = %scope.id(), user = %principal.user_id);
    reader::run(socket, state, principal, scope, slot)
        .instrument(span)
        .await;
}
