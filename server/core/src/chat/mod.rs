//! Chat: threads and messages, and the replies the model streams into them.
//!
//! [`ChatService`] is the one command bus: REST handlers, WebSocket commands and
//! server functions all call it, so rules and errors are the same on every transport.
//! Every record is written here, one change at a time (never a browser saving a whole
//! conversation). Thread changes that belong on the project timeline go through the
//! event dispatcher; everything a thread's watchers see (new and changed messages,
//! stream chunks, typing) goes to the hub's `Topic::Thread`, serialised once.

pub mod llm;
mod prompt;
mod run;

use std::sync::Arc;

use kiln_types::{
    DEFAULT_THREAD_TITLE, Message, MessageEdit, MessagePatch, MessageRole, NewMessage, NewThread,
    Page, PageQuery, SentMessage, ServerFrame, Thread, ThreadListQuery, ThreadPatch,
    validate_message_content, validate_thread_title,
};
use tokio_util::task::TaskTracker;

pub use llm::{LlmClient, LlmSettings, PromptMessage};
pub use run::Resume;

use crate::{
    ServiceError,
    access::{MessageScope, ProjectScope, ThreadScope},
    db::Db,
    error::Conflict,
    events::{DomainEvent, EventDispatcher},
    files::FileService,
    hub::Topic,
    pagination::PageRequest,
    snippets::SnippetService,
    store::{DbError, chat as store, codes},
};

/// How chat is configured.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    pub llm: LlmSettings,
    /// `KILN_MESSAGE_MAX_BYTES`: the largest user message.
    pub message_max_bytes: usize,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            llm: LlmSettings::default(),
            message_max_bytes: kiln_types::MESSAGE_MAX_BYTES,
        }
    }
}

#[derive(Clone)]
pub struct ChatService {
    db: Db,
    events: EventDispatcher,
    files: FileService,
    snippets: SnippetService,
    llm: LlmClient,
    settings: Arc<ChatSettings>,
    runs: Arc<run::Runs>,
    tasks: TaskTracker,
}

impl ChatService {
    pub fn new(
        db: Db,
        events: EventDispatcher,
        files: FileService,
        snippets: SnippetService,
        llm: LlmClient,
        settings: ChatSettings,
    ) -> Self {
        Self {
            db,
            events,
            files,
            snippets,
            llm,
            settings: Arc::new(settings),
            runs: Arc::default(),
            tasks: TaskTracker::new(),
        }
    }

    pub fn llm(&self) -> &LlmClient {
        &self.llm
    }

    /// Sends `frame` to everyone watching the thread.
    fn publish(&self, thread_id: &str, frame: &ServerFrame) {
        self.events.hub().publish(
            frame.kind(),
            vec![Topic::Thread(thread_id.to_owned())],
            frame,
        );
    }

    // Threads.

    pub async fn create_thread(
        &self,
        scope: &ProjectScope,
        input: NewThread,
    ) -> Result<Thread, ServiceError> {
        scope.require_writable()?;
        let title = match input.title.as_deref() {
            Some(title) => validate_thread_title(title)?,
            None => DEFAULT_THREAD_TITLE.to_owned(),
        };
        let principal = scope.principal();
        let thread: Thread =
            store::create_thread(&self.db, scope.id().as_str(), &principal.user_id, &title)
                .await?
                .into();
        self.events
            .publish(DomainEvent::ThreadCreated {
                project: scope.reference(),
                actor_id: principal.user_id.clone(),
                thread_id: thread.id.clone(),
                title: thread.title.clone(),
            })
            .await;
        Ok(thread)
    }

    pub async fn list_threads(
        &self,
        scope: &ProjectScope,
        query: &ThreadListQuery,
    ) -> Result<Page<Thread>, ServiceError> {
        let request = PageRequest::from_query(&PageQuery {
            limit: query.limit,
            after: query.after.clone(),
            before: query.before.clone(),
            event_type: None,
        })?;
        let rows = store::list_threads(
            &self.db,
            scope.id().as_str(),
            query.archived.unwrap_or(false),
            &request,
        )
        .await?;
        Ok(request.finish(rows.into_iter().map(store::ThreadRow::into_keyed).collect()))
    }

    pub async fn thread(&self, scope: &ThreadScope) -> Result<Thread, ServiceError> {
        store::get_thread(&self.db, scope.id().as_str())
            .await?
            .map(Thread::from)
            .ok_or_else(|| thread_gone(scope))
    }

    pub async fn rename_thread(
        &self,
        scope: &ThreadScope,
        patch: ThreadPatch,
    ) -> Result<Thread, ServiceError> {
        scope.project().require_writable()?;
        let title = validate_thread_title(&patch.title)?;
        let thread: Thread = store::rename_thread(&self.db, scope.id().as_str(), &title)
            .await
            .map_err(chat_error)?
            .into();
        self.publish(
            &thread.id,
            &ServerFrame::ThreadUpdated {
                thread: thread.clone(),
            },
        );
        Ok(thread)
    }

    /// Archives (`true`) or un-archives a thread; doing it twice changes nothing.
    pub async fn set_archived(
        &self,
        scope: &ThreadScope,
        archived: bool,
    ) -> Result<Thread, ServiceError> {
        scope.project().require_writable()?;
        if archived {
            // A reply still streaming into it would write to a read-only thread.
            self.runs.stop_thread(scope.id().as_str()).await;
        }
        let (row, changed) = store::set_archived(&self.db, scope.id().as_str(), archived).await?;
        let thread = Thread::from(row);
        if changed {
            self.events
                .publish(DomainEvent::ThreadArchived {
                    project: scope.project().reference(),
                    actor_id: scope.principal().user_id.clone(),
                    thread_id: thread.id.clone(),
                    title: thread.title.clone(),
                    archived,
                })
                .await;
            self.publish(
                &thread.id,
                &ServerFrame::ThreadUpdated {
                    thread: thread.clone(),
                },
            );
        }
        Ok(thread)
    }

    /// Deletes a thread and all its messages (a reply being generated is stopped); its
    /// watchers hear `thread_deleted`.
    pub async fn delete_thread(&self, scope: &ThreadScope) -> Result<(), ServiceError> {
        scope.project().require_writable()?;
        let thread = self.thread(scope).await?;
        self.runs.stop_thread(scope.id().as_str()).await;
        store::delete_thread(&self.db, scope.id().as_str()).await?;
        announce_deleted(self.events.hub(), &thread.id);
        self.events
            .publish(DomainEvent::ThreadDeleted {
                project: scope.project().reference(),
                actor_id: scope.principal().user_id.clone(),
                thread_id: thread.id,
                title: thread.title,
            })
            .await;
        Ok(())
    }

    // Messages.

    /// A page of the thread's messages (every branch, each with its `parent_id`),
    /// newest first.
    pub async fn messages(
        &self,
        scope: &ThreadScope,
        query: &PageQuery,
    ) -> Result<Page<Message>, ServiceError> {
        let request = PageRequest::from_query(query)?;
        let rows = store::list_messages(&self.db, scope.id().as_str(), &request).await?;
        let mut page = request.finish(
            rows.into_iter()
                .map(store::MessageRow::into_keyed)
                .collect(),
        );
        self.mark_changed_citations(&mut page.items).await?;
        Ok(page)
    }

    pub async fn message(&self, scope: &MessageScope) -> Result<Message, ServiceError> {
        let mut message = store::get_message(&self.db, scope.id().as_str())
            .await?
            .map(Message::from)
            .ok_or_else(|| ServiceError::not_found("message", "the message is gone"))?;
        self.mark_changed_citations(std::slice::from_mut(&mut message))
            .await?;
        Ok(message)
    }

    /// Stores the caller's message and starts the reply to it. With no model
    /// configured the message is kept and the reply fails at once, saying so.
    pub async fn send(
        &self,
        scope: &ThreadScope,
        input: NewMessage,
    ) -> Result<SentMessage, ServiceError> {
        scope.require_writable()?;
        validate_message_content(&input.content, self.settings.message_max_bytes)?;
        let project = crate::store::projects::get(&self.db, scope.project().id().as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found("project", "the project is gone"))?;
        let model = self.llm.model_for(project.model.as_deref());
        let parent = match (input.parent_id.as_deref(), input.at_start) {
            (Some(_), true) => {
                return Err(ServiceError::invalid_field(
                    "parent_id",
                    "give either parent_id or at_start, not both",
                ));
            }
            (Some(""), false) => {
                return Err(ServiceError::invalid_field(
                    "parent_id",
                    "must not be empty",
                ));
            }
            (Some(id), false) => store::Parent::Message(id),
            (None, true) => store::Parent::Start,
            (None, false) => store::Parent::Newest,
        };
        let rows = store::send(
            &self.db,
            scope.id().as_str(),
            &scope.principal().user_id,
            &input.content,
            parent,
            &model,
        )
        .await
        .map_err(chat_error)?;
        let retitled = rows.retitled.map(Thread::from);
        let sent = SentMessage {
            message: rows.message.into(),
            reply: rows.reply.into(),
        };
        // Registered at once (no await since the commit), so a stop, an archive or a
        // shutdown finds it; the frames go out before its first chunk can.
        self.start_reply(scope, &sent.reply, project.name, project.instructions);
        let thread_id = scope.id().as_str();
        self.publish(
            thread_id,
            &ServerFrame::MessageCreated {
                message: sent.message.clone(),
            },
        );
        self.publish(
            thread_id,
            &ServerFrame::MessageCreated {
                message: sent.reply.clone(),
            },
        );
        if let Some(thread) = retitled {
            self.publish(thread_id, &ServerFrame::ThreadUpdated { thread });
        }
        Ok(sent)
    }

    /// A new reply beside `scope`'s message (an assistant reply) or to it (a user
    /// message); the old reply stays reachable as a sibling branch.
    pub async fn regenerate(&self, scope: &MessageScope) -> Result<Message, ServiceError> {
        scope.thread().require_writable()?;
        let project = crate::store::projects::get(&self.db, scope.thread().project().id().as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found("project", "the project is gone"))?;
        let model = self.llm.model_for(project.model.as_deref());
        let reply: Message = store::regenerate(&self.db, scope.id().as_str(), &model)
            .await
            .map_err(chat_error)?
            .into();
        self.start_reply(scope.thread(), &reply, project.name, project.instructions);
        self.publish(
            scope.thread().id().as_str(),
            &ServerFrame::MessageCreated {
                message: reply.clone(),
            },
        );
        Ok(reply)
    }

    /// Replaces the text of one's own message; the old text goes to its history.
    pub async fn edit(
        &self,
        scope: &MessageScope,
        patch: MessagePatch,
    ) -> Result<Message, ServiceError> {
        scope.require_author()?;
        scope.thread().require_writable()?;
        validate_message_content(&patch.content, self.settings.message_max_bytes)?;
        let message: Message = store::edit_message(
            &self.db,
            scope.id().as_str(),
            &scope.thread().principal().user_id,
            &patch.content,
        )
        .await
        .map_err(chat_error)?
        .into();
        self.publish(
            scope.thread().id().as_str(),
            &ServerFrame::MessageUpdated {
                message: message.clone(),
            },
        );
        Ok(message)
    }

    /// Deletes one's own message; what followed it moves up to its parent.
    pub async fn delete(&self, scope: &MessageScope) -> Result<(), ServiceError> {
        scope.require_author()?;
        scope.thread().require_writable()?;
        store::delete_message(&self.db, scope.id().as_str())
            .await
            .map_err(chat_error)?;
        let thread_id = scope.thread().id().to_string();
        self.publish(
            &thread_id,
            &ServerFrame::MessageDeleted {
                thread_id: thread_id.clone(),
                message_id: scope.id().to_string(),
            },
        );
        Ok(())
    }

    /// A message's earlier versions, newest first.
    pub async fn edits(&self, scope: &MessageScope) -> Result<Vec<MessageEdit>, ServiceError> {
        Ok(store::edits(&self.db, scope.id().as_str())
            .await?
            .into_iter()
            .map(MessageEdit::from)
            .collect())
    }

    /// Stops a reply: the request to the model is dropped, the text so far is saved
    /// as `stopped`, then this returns it. A reply that already ended is returned as
    /// it is.
    pub async fn stop(&self, scope: &MessageScope) -> Result<Message, ServiceError> {
        if scope.role() != MessageRole::Assistant {
            return Err(ServiceError::invalid_field(
                "message_id",
                "only a reply can be stopped",
            ));
        }
        if !self.runs.stop(scope.id().as_str()).await {
            // Not generating here: a reply left streaming by a stopped process.
            let ended = store::end_reply(
                &self.db,
                scope.id().as_str(),
                kiln_types::MessageStatus::Stopped,
                None,
            )
            .await?;
            if let Some(row) = ended {
                self.publish(
                    scope.thread().id().as_str(),
                    &ServerFrame::MessageUpdated {
                        message: row.into(),
                    },
                );
            }
        }
        self.message(scope).await
    }

    /// The user is typing on the socket `origin`: the thread's other sockets hear of
    /// it (not that one).
    pub fn typing(&self, scope: &ThreadScope, origin: &str) {
        let frame = ServerFrame::Typing {
            thread_id: scope.id().to_string(),
            user_id: scope.principal().user_id.clone(),
        };
        self.events.hub().publish_from(
            frame.kind(),
            vec![Topic::Thread(scope.id().to_string())],
            &frame,
            origin,
        );
    }

    /// What a reconnecting client missed of the reply `message_id`: the chunks after
    /// `after_seq` while it is still generating, else the finished message.
    pub async fn resume(
        &self,
        scope: &MessageScope,
        after_seq: Option<u64>,
    ) -> Result<Resume, ServiceError> {
        if let Some(chunks) = self.runs.chunks_after(scope.id().as_str(), after_seq) {
            return Ok(Resume::Live(chunks));
        }
        Ok(Resume::Finished(Box::new(self.message(scope).await?)))
    }

    /// Replies left `streaming` when Kiln last stopped: marked failed so they can be
    /// regenerated (only for a database no other instance writes to).
    pub async fn fail_interrupted(&self) -> Result<usize, ServiceError> {
        Ok(store::fail_interrupted(&self.db, run::INTERRUPTED).await?)
    }

    /// Stops every reply being generated (saved as interrupted) and waits for them,
    /// at most `timeout`.
    pub async fn shutdown(&self, timeout: std::time::Duration) {
        self.runs.stop_all();
        self.tasks.close();
        if tokio::time::timeout(timeout, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("replies still being saved when the shutdown timeout passed");
        }
    }

    /// Sets `changed` on citations of files that moved on (or were deleted) since.
    async fn mark_changed_citations(&self, messages: &mut [Message]) -> Result<(), ServiceError> {
        let mut ids: Vec<String> = messages
            .iter()
            .flat_map(|m| m.citations.iter().map(|c| c.file_id.clone()))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort();
        ids.dedup();
        let current: std::collections::HashMap<String, u64> = store::live_versions(&self.db, ids)
            .await?
            .into_iter()
            .collect();
        for citation in messages.iter_mut().flat_map(|m| m.citations.iter_mut()) {
            citation.changed = current.get(&citation.file_id) != Some(&citation.version);
        }
        Ok(())
    }
}

/// Tells a deleted thread's sockets (`thread_deleted`; they close).
pub(crate) fn announce_deleted(hub: &crate::hub::EventHub, thread_id: &str) {
    let frame = ServerFrame::ThreadDeleted {
        thread_id: thread_id.to_owned(),
    };
    hub.publish(
        frame.kind(),
        vec![Topic::Thread(thread_id.to_owned())],
        &frame,
    );
}

fn thread_gone(scope: &ThreadScope) -> ServiceError {
    ServiceError::not_found(
        "thread",
        format!(
            "no thread with id {:?} (it may have been deleted)",
            scope.id().as_str()
        ),
    )
}

/// The database's refusals of a chat change, as the errors they stand for.
fn chat_error(error: DbError) -> ServiceError {
    let DbError::Thrown(code) = &error else {
        return error.into();
    };
    match code.as_str() {
        codes::ARCHIVED => {
            Conflict::Archived("the thread is archived: un-archive it to change it".into()).into()
        }
        codes::REPLY_IN_PROGRESS => Conflict::ReplyInProgress(
            "a reply is being generated in this thread: stop it or wait for it to finish".into(),
        )
        .into(),
        codes::BAD_PARENT => {
            ServiceError::invalid_field("parent_id", "is not a message of this thread")
        }
        codes::EDIT_LIMIT => Conflict::EditLimit(format!(
            "a message keeps at most {} earlier versions",
            kiln_types::MESSAGE_EDITS_MAX
        ))
        .into(),
        codes::NOT_FOUND => ServiceError::not_found("message", "the message or thread is gone"),
        _ => error.into(),
    }
}
