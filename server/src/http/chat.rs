//! Chat over REST: `/api/projects/{project_id}/threads`, `/api/threads/…` and
//! `/api/messages/…`. Every handler calls the chat service with a scope its path
//! extractor proved, so a stranger gets 403 before the body is read.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, Uri},
    response::Response,
};
use kiln_core::Services;
use kiln_types::{
    ApiError, Message, MessageEdit, MessagePatch, NewMessage, NewThread, Page, PageQuery,
    SentMessage, Thread, ThreadListQuery, ThreadPatch,
};

use super::{
    ApiErrorResponse,
    access::{OwnedMessage, OwnedProject, OwnedThread},
    json::{ApiJson, ApiQuery, paged},
};

/// The project's threads, most recently active first; `?archived=true` lists the
/// archived ones.
#[utoipa::path(get, path = "/api/projects/{project_id}/threads", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id"), ThreadListQuery),
    responses(
        (status = 200, body = Page<Thread>, description = "A page; `next_cursor` (and the `Link` header) lead on"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
        (status = 422, description = "Bad limit or cursor", body = ApiError),
    ))]
pub async fn list_threads(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
    uri: Uri,
    ApiQuery(query): ApiQuery<ThreadListQuery>,
) -> Result<Response, ApiErrorResponse> {
    Ok(paged(
        &uri,
        services.chat.list_threads(&scope, &query).await?,
    ))
}

/// Start a thread in the project.
#[utoipa::path(post, path = "/api/projects/{project_id}/threads", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    request_body = NewThread,
    responses(
        (status = 201, body = Thread),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's project", body = ApiError),
        (status = 404, description = "No such project", body = ApiError),
        (status = 409, description = "The project is archived", body = ApiError),
        (status = 422, description = "Invalid title", body = ApiError),
    ))]
pub async fn create_thread(
    State(services): State<Services>,
    OwnedProject(scope): OwnedProject,
    ApiJson(input): ApiJson<NewThread>,
) -> Result<(StatusCode, Json<Thread>), ApiErrorResponse> {
    let thread = services.chat.create_thread(&scope, input).await?;
    Ok((StatusCode::CREATED, Json(thread)))
}

/// One thread.
#[utoipa::path(get, path = "/api/threads/{thread_id}", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses(
        (status = 200, body = Thread),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
    ))]
pub async fn get_thread(
    State(services): State<Services>,
    OwnedThread(scope): OwnedThread,
) -> Result<Json<Thread>, ApiErrorResponse> {
    Ok(Json(services.chat.thread(&scope).await?))
}

/// Rename a thread.
#[utoipa::path(patch, path = "/api/threads/{thread_id}", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id")),
    request_body = ThreadPatch,
    responses(
        (status = 200, body = Thread),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
        (status = 409, description = "The thread or project is archived", body = ApiError),
        (status = 422, description = "Invalid title", body = ApiError),
    ))]
pub async fn update_thread(
    State(services): State<Services>,
    OwnedThread(scope): OwnedThread,
    ApiJson(patch): ApiJson<ThreadPatch>,
) -> Result<Json<Thread>, ApiErrorResponse> {
    Ok(Json(services.chat.rename_thread(&scope, patch).await?))
}

/// Delete a thread with all its messages.
#[utoipa::path(delete, path = "/api/threads/{thread_id}", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
        (status = 409, description = "The project is archived", body = ApiError),
    ))]
pub async fn delete_thread(
    State(services): State<Services>,
    OwnedThread(scope): OwnedThread,
) -> Result<StatusCode, ApiErrorResponse> {
    services.chat.delete_thread(&scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archive a thread: it becomes read-only (a reply being generated is stopped).
#[utoipa::path(post, path = "/api/threads/{thread_id}/archive", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses(
        (status = 200, body = Thread),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
        (status = 409, description = "The project is archived", body = ApiError),
    ))]
pub async fn archive_thread(
    State(services): State<Services>,
    OwnedThread(scope): OwnedThread,
) -> Result<Json<Thread>, ApiErrorResponse> {
    Ok(Json(services.chat.set_archived(&scope, true).await?))
}

/// Un-archive a thread.
#[utoipa::path(post, path = "/api/threads/{thread_id}/unarchive", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses(
        (status = 200, body = Thread),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
        (status = 409, description = "The project is archived", body = ApiError),
    ))]
pub async fn unarchive_thread(
    State(services): State<Services>,
    OwnedThread(scope): OwnedThread,
) -> Result<Json<Thread>, ApiErrorResponse> {
    Ok(Json(services.chat.set_archived(&scope, false).await?))
}

/// The thread's messages, newest first, every branch (each names its `parent_id`).
#[utoipa::path(get, path = "/api/threads/{thread_id}/messages", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id"), PageQuery),
    responses(
        (status = 200, body = Page<Message>, description = "A page; `next_cursor` (and the `Link` header) lead on"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
        (status = 422, description = "Bad limit or cursor", body = ApiError),
    ))]
pub async fn list_messages(
    State(services): State<Services>,
    OwnedThread(scope): OwnedThread,
    uri: Uri,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiErrorResponse> {
    Ok(paged(&uri, services.chat.messages(&scope, &query).await?))
}

/// Ask: stores the message and starts the reply, whose text streams over the
/// thread's WebSocket (`GET /api/threads/{thread_id}/ws`) and is saved as it grows.
#[utoipa::path(post, path = "/api/threads/{thread_id}/messages", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("thread_id" = String, Path, description = "The thread's id")),
    request_body = NewMessage,
    responses(
        (status = 201, body = SentMessage, description = "The message and the reply being generated"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's thread", body = ApiError),
        (status = 404, description = "No such thread", body = ApiError),
        (status = 409, description = "The thread is archived, or a reply is being generated (`reply_in_progress`)", body = ApiError),
        (status = 413, description = "The message is over the size limit", body = ApiError),
        (status = 422, description = "Empty content, or a parent outside the thread", body = ApiError),
    ))]
pub async fn send_message(
    State(services): State<Services>,
    OwnedThread(scope): OwnedThread,
    ApiJson(input): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<SentMessage>), ApiErrorResponse> {
    let sent = services.chat.send(&scope, input).await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

/// Change one's own message (the old text goes to its history).
#[utoipa::path(patch, path = "/api/messages/{message_id}", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("message_id" = String, Path, description = "The message's id")),
    request_body = MessagePatch,
    responses(
        (status = 200, body = Message),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Not the caller's message", body = ApiError),
        (status = 404, description = "No such message", body = ApiError),
        (status = 409, description = "The thread is archived, or the history is full", body = ApiError),
        (status = 413, description = "The message is over the size limit", body = ApiError),
        (status = 422, description = "Empty content", body = ApiError),
    ))]
pub async fn edit_message(
    State(services): State<Services>,
    OwnedMessage(scope): OwnedMessage,
    ApiJson(patch): ApiJson<MessagePatch>,
) -> Result<Json<Message>, ApiErrorResponse> {
    Ok(Json(services.chat.edit(&scope, patch).await?))
}

/// Delete one's own message; what followed it moves up to its parent.
#[utoipa::path(delete, path = "/api/messages/{message_id}", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("message_id" = String, Path, description = "The message's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Not the caller's message", body = ApiError),
        (status = 404, description = "No such message", body = ApiError),
        (status = 409, description = "The thread is archived", body = ApiError),
    ))]
pub async fn delete_message(
    State(services): State<Services>,
    OwnedMessage(scope): OwnedMessage,
) -> Result<StatusCode, ApiErrorResponse> {
    services.chat.delete(&scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A message's earlier versions, newest first.
#[utoipa::path(get, path = "/api/messages/{message_id}/edits", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("message_id" = String, Path, description = "The message's id")),
    responses(
        (status = 200, body = Vec<MessageEdit>),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's message", body = ApiError),
        (status = 404, description = "No such message", body = ApiError),
    ))]
pub async fn message_edits(
    State(services): State<Services>,
    OwnedMessage(scope): OwnedMessage,
) -> Result<Json<Vec<MessageEdit>>, ApiErrorResponse> {
    Ok(Json(services.chat.edits(&scope).await?))
}

/// Stop a reply: the model stops generating and the text so far is kept (`stopped`).
#[utoipa::path(post, path = "/api/messages/{message_id}/stop", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("message_id" = String, Path, description = "The reply's id")),
    responses(
        (status = 200, body = Message, description = "The reply as saved"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's message", body = ApiError),
        (status = 404, description = "No such message", body = ApiError),
        (status = 422, description = "Not a reply", body = ApiError),
    ))]
pub async fn stop_message(
    State(services): State<Services>,
    OwnedMessage(scope): OwnedMessage,
) -> Result<Json<Message>, ApiErrorResponse> {
    Ok(Json(services.chat.stop(&scope).await?))
}

/// Generate another reply (a sibling of this reply, or a reply to this question); the
/// old one stays reachable.
#[utoipa::path(post, path = "/api/messages/{message_id}/regenerate", tag = "chat",
    security(("bearer" = []), ("cookie" = [])),
    params(("message_id" = String, Path, description = "The reply (or question) to answer again")),
    responses(
        (status = 201, body = Message, description = "The new reply being generated"),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Another account's message", body = ApiError),
        (status = 404, description = "No such message", body = ApiError),
        (status = 409, description = "The thread is archived, or a reply is being generated", body = ApiError),
    ))]
pub async fn regenerate(
    State(services): State<Services>,
    OwnedMessage(scope): OwnedMessage,
) -> Result<(StatusCode, Json<Message>), ApiErrorResponse> {
    let reply = services.chat.regenerate(&scope).await?;
    Ok((StatusCode::CREATED, Json(reply)))
}
