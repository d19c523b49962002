//! Server functions of the chat pages: thin adapters over `ChatService`. (Sending,
//! stopping and streaming go over the thread's WebSocket.)

use kiln_types::{ApiError, Page, Thread, ThreadView};
use leptos::prelude::*;

use super::CsrfClient;
#[cfg(feature = "ssr")]
use super::ssr;

/// A page of a project's threads, with the project's name (for the breadcrumb).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProjectThreadList {
    pub project_name: String,
    pub threads: Page<Thread>,
}

/// A page of the project's threads (or of its archived ones).
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn project_threads(
    project_id: String,
    archived: bool,
    after: Option<String>,
) -> Result<ProjectThreadList, ApiError> {
    let scope = ssr::project_scope(&project_id).await?;
    let query = kiln_types::ThreadListQuery {
        archived: Some(archived),
        after,
        limit: Some(50),
        ..Default::default()
    };
    let threads = ssr::services()?
        .chat
        .list_threads(&scope, &query)
        .await
        .map_err(ssr::failed)?;
    Ok(ProjectThreadList {
        project_name: scope.reference().name,
        threads,
    })
}

#[server(client = CsrfClient)]
pub async fn new_thread(project_id: String, title: String) -> Result<Thread, ApiError> {
    let scope = ssr::project_scope(&project_id).await?;
    let title = Some(title).filter(|title| !title.trim().is_empty());
    ssr::services()?
        .chat
        .create_thread(&scope, kiln_types::NewThread { title })
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn rename_thread(thread_id: String, title: String) -> Result<Thread, ApiError> {
    let scope = ssr::thread_scope(&thread_id).await?;
    ssr::services()?
        .chat
        .rename_thread(&scope, kiln_types::ThreadPatch { title })
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn archive_thread(thread_id: String, archived: bool) -> Result<Thread, ApiError> {
    let scope = ssr::thread_scope(&thread_id).await?;
    ssr::services()?
        .chat
        .set_archived(&scope, archived)
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn delete_thread(thread_id: String) -> Result<(), ApiError> {
    let scope = ssr::thread_scope(&thread_id).await?;
    ssr::services()?
        .chat
        .delete_thread(&scope)
        .await
        .map_err(ssr::failed)
}

/// The thread and its newest messages (every branch), each with its Markdown
/// rendered to sanitised HTML.
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn load_thread(
    thread_id: String,
    before: Option<String>,
) -> Result<ThreadView, ApiError> {
    let scope = ssr::thread_scope(&thread_id).await?;
    let chat = ssr::services()?.chat;
    let thread = chat.thread(&scope).await.map_err(ssr::failed)?;
    let query = kiln_types::PageQuery {
        limit: Some(100),
        after: before,
        ..Default::default()
    };
    let page = chat.messages(&scope, &query).await.map_err(ssr::failed)?;
    Ok(ThreadView {
        thread,
        project_name: scope.project().reference().name,
        messages: page.items.into_iter().map(ssr::rendered).collect(),
        older_cursor: page.next_cursor,
    })
}

/// One message as the thread shows it (after a reply has finished).
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn rendered_message(message_id: String) -> Result<kiln_types::ChatMessage, ApiError> {
    let principal = ssr::principal()?;
    let services = ssr::services()?;
    let scope = kiln_core::access::message(&services.db, &principal, &message_id)
        .await
        .map_err(ssr::failed)?;
    let message = services.chat.message(&scope).await.map_err(ssr::failed)?;
    Ok(ssr::rendered(message))
}

/// A message's earlier versions, newest first.
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn message_history(message_id: String) -> Result<Vec<kiln_types::MessageEdit>, ApiError> {
    let principal = ssr::principal()?;
    let services = ssr::services()?;
    let scope = kiln_core::access::message(&services.db, &principal, &message_id)
        .await
        .map_err(ssr::failed)?;
    services.chat.edits(&scope).await.map_err(ssr::failed)
}
