//! The `thread`, `message` and `message_edit` tables: typed rows and every statement
//! on them. Counters (the thread's and the project's) move in the same transaction
//! as the change they count.

use kiln_types::{Citation, Message, MessageEdit, MessageRole, MessageStatus, Snippet, Thread};
use surrealdb::types::SurrealValue;

use super::{
    DbError, TIME_FORMAT, Transaction, codes,
    pagination::{Key, PageRequest, SORT_KEY_FORMAT},
};
use crate::db::Db;

/// An optional datetime column as RFC 3339 text (or NONE).
fn time_or_none(column: &str) -> String {
    format!("IF {column} != NONE THEN time::format({column}, '{TIME_FORMAT}') ELSE NONE END")
}

/// An optional record column as its key (or NONE).
fn key_or_none(column: &str) -> String {
    format!("IF {column} != NONE THEN record::id({column}) ELSE NONE END")
}

fn thread_fields() -> String {
    format!(
        "record::id(id) AS id, record::id(project) AS project_id, title, \
         {archived} AS archived_at, \
         time::format(created_at, '{TIME_FORMAT}') AS created_at, \
         time::format(updated_at, '{TIME_FORMAT}') AS updated_at, \
         {last} AS last_message_at, message_count, \
         time::format(updated_at, '{SORT_KEY_FORMAT}') AS sort_key",
        archived = time_or_none("archived_at"),
        last = time_or_none("last_message_at"),
    )
}

fn message_fields() -> String {
    format!(
        "record::id(id) AS id, record::id(thread) AS thread_id, {parent} AS parent_id, \
         role, {author} AS author_id, content, status, model, error, citations, snippets, \
         time::format(created_at, '{TIME_FORMAT}') AS created_at, {edited} AS edited_at, \
         time::format(created_at, '{SORT_KEY_FORMAT}') AS sort_key",
        parent = key_or_none("parent"),
        author = key_or_none("author"),
        edited = time_or_none("edited_at"),
    )
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct ThreadRow {
    id: String,
    project_id: String,
    title: String,
    archived_at: Option<String>,
    created_at: String,
    updated_at: String,
    last_message_at: Option<String>,
    message_count: i64,
    sort_key: String,
}

impl ThreadRow {
    pub(crate) fn into_keyed(self) -> (Key, Thread) {
        let key = Key {
            time: self.sort_key.clone(),
            id: self.id.clone(),
        };
        (key, self.into())
    }
}

impl From<ThreadRow> for Thread {
    fn from(row: ThreadRow) -> Self {
        Thread {
            id: row.id,
            project_id: row.project_id,
            title: row.title,
            archived_at: row.archived_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_message_at: row.last_message_at,
            message_count: u64::try_from(row.message_count).unwrap_or(0),
        }
    }
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct MessageRow {
    id: String,
    thread_id: String,
    parent_id: Option<String>,
    role: String,
    author_id: Option<String>,
    content: String,
    status: String,
    model: Option<String>,
    error: Option<String>,
    citations: serde_json::Value,
    snippets: serde_json::Value,
    created_at: String,
    edited_at: Option<String>,
    sort_key: String,
}

impl MessageRow {
    pub(crate) fn into_keyed(self) -> (Key, Message) {
        let key = Key {
            time: self.sort_key.clone(),
            id: self.id.clone(),
        };
        (key, self.into())
    }
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        Message {
            id: row.id,
            thread_id: row.thread_id,
            parent_id: row.parent_id,
            role: if row.role == "assistant" {
                MessageRole::Assistant
            } else {
                MessageRole::User
            },
            author_id: row.author_id,
            content: row.content,
            // The schema allows only the four statuses.
            status: MessageStatus::parse(&row.status).unwrap_or(MessageStatus::Failed),
            model: row.model,
            error: row.error,
            citations: serde_json::from_value(row.citations).unwrap_or_default(),
            snippets: serde_json::from_value(row.snippets).unwrap_or_default(),
            created_at: row.created_at,
            edited_at: row.edited_at,
        }
    }
}

/// Who may see a thread (or the thread of a message), read once for an access check.
#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct ThreadOwnerRow {
    pub(crate) thread_id: String,
    pub(crate) project_id: String,
    pub(crate) owner_id: Option<String>,
    pub(crate) name: String,
    pub(crate) status: String,
    pub(crate) archived: bool,
    /// Message checks only.
    pub(crate) role: Option<String>,
    pub(crate) author_id: Option<String>,
}

pub(crate) async fn thread_owner(db: &Db, id: &str) -> Result<Option<ThreadOwnerRow>, DbError> {
    let mut response = db
        .query(
            "SELECT record::id(id) AS thread_id, record::id(project) AS project_id,
                    record::id(project.owner) AS owner_id, project.name AS name,
                    project.status AS status, archived_at != NONE AS archived
             FROM ONLY type::record('thread', $id)",
        )
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

pub(crate) async fn message_owner(db: &Db, id: &str) -> Result<Option<ThreadOwnerRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT record::id(thread) AS thread_id, record::id(thread.project) AS project_id,
                    record::id(thread.project.owner) AS owner_id, thread.project.name AS name,
                    thread.project.status AS status, thread.archived_at != NONE AS archived,
                    role, {} AS author_id
             FROM ONLY type::record('message', $id)",
            key_or_none("author")
        ))
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

pub(crate) async fn create_thread(
    db: &Db,
    project_id: &str,
    owner: &str,
    title: &str,
) -> Result<ThreadRow, DbError> {
    let created: Option<ThreadRow> = Transaction::new(format!(
        "LET $project = type::record('project', $project_id);
         LET $created = CREATE ONLY thread CONTENT {{
             project: $project, owner: type::record('user', $owner), title: $title
         }};
         UPDATE $project SET stats.thread_count += 1, last_activity_at = time::now() RETURN NONE;
         LET $result = SELECT {} FROM ONLY $created.id;",
        thread_fields()
    ))
    .bind("project_id", project_id.to_owned())
    .bind("owner", owner.to_owned())
    .bind("title", title.to_owned())
    .run(db)
    .await?;
    created.ok_or_else(|| DbError::Thrown(codes::NOT_FOUND.into()))
}

/// The ids of a project's threads (archived ones too).
pub(crate) async fn thread_ids(db: &Db, project_id: &str) -> Result<Vec<String>, DbError> {
    let mut response = db
        .query("SELECT VALUE record::id(id) FROM thread WHERE project = type::record('project', $project)")
        .bind(("project", project_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

pub(crate) async fn get_thread(db: &Db, id: &str) -> Result<Option<ThreadRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM ONLY type::record('thread', $id)",
            thread_fields()
        ))
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// A page of a project's threads, archived or not, most recently active first.
pub(crate) async fn list_threads(
    db: &Db,
    project_id: &str,
    archived: bool,
    request: &PageRequest,
) -> Result<Vec<ThreadRow>, DbError> {
    let (position, order, limit) = request.clauses("thread", "updated_at");
    let (cursor_time, cursor_id) = request.bindings();
    let archived = if archived { "!=" } else { "=" };
    let mut response = db
        .query(format!(
            "SELECT {} FROM thread WHERE project = type::record('project', $project)
                 AND archived_at {archived} NONE AND {position} {order} LIMIT {limit}",
            thread_fields()
        ))
        .bind(("project", project_id.to_owned()))
        .bind(("cursor_time", cursor_time))
        .bind(("cursor_id", cursor_id))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// Renames a thread; THROWs [`codes::ARCHIVED`] when it is archived.
pub(crate) async fn rename_thread(db: &Db, id: &str, title: &str) -> Result<ThreadRow, DbError> {
    let renamed: Option<ThreadRow> = Transaction::new(format!(
        "LET $thread = type::record('thread', $id);
         IF (SELECT VALUE archived_at FROM ONLY $thread) != NONE {{ THROW '{archived}'; }};
         UPDATE $thread SET title = $title, updated_at = time::now() RETURN NONE;
         LET $result = SELECT {fields} FROM ONLY $thread;",
        archived = codes::ARCHIVED,
        fields = thread_fields()
    ))
    .bind("id", id.to_owned())
    .bind("title", title.to_owned())
    .run(db)
    .await?;
    renamed.ok_or_else(|| DbError::Thrown(codes::NOT_FOUND.into()))
}

/// Archives or un-archives a thread; `changed` says whether it was in the other state.
pub(crate) async fn set_archived(
    db: &Db,
    id: &str,
    archived: bool,
) -> Result<(ThreadRow, bool), DbError> {
    #[derive(SurrealValue)]
    #[surreal(crate = "surrealdb::types")]
    struct Outcome {
        thread: ThreadRow,
        changed: bool,
    }
    let outcome: Option<Outcome> = Transaction::new(format!(
        "LET $thread = type::record('thread', $id);
         LET $was = (SELECT VALUE archived_at FROM ONLY $thread) != NONE;
         IF $was != $archived {{
             UPDATE $thread SET archived_at = IF $archived THEN time::now() ELSE NONE END,
                 updated_at = time::now() RETURN NONE;
         }};
         LET $result = {{ thread: (SELECT {} FROM ONLY $thread), changed: $was != $archived }};",
        thread_fields()
    ))
    .bind("id", id.to_owned())
    .bind("archived", archived)
    .run(db)
    .await?;
    let outcome = outcome.ok_or_else(|| DbError::Thrown(codes::NOT_FOUND.into()))?;
    Ok((outcome.thread, outcome.changed))
}

/// Deletes a thread with its messages, and takes them off the project's counters.
pub(crate) async fn delete_thread(db: &Db, id: &str) -> Result<(), DbError> {
    Transaction::new(
        "LET $thread = type::record('thread', $id);
         LET $old = SELECT project, message_count FROM ONLY $thread;
         IF $old != NONE {
             DELETE $thread;
             UPDATE $old.project SET stats.thread_count = math::max([0, stats.thread_count - 1]),
                 stats.message_count = math::max([0, stats.message_count - $old.message_count]),
                 last_activity_at = time::now() RETURN NONE;
         };",
    )
    .bind("id", id.to_owned())
    .run::<surrealdb::types::Value>(db)
    .await?;
    Ok(())
}

/// The two messages a send creates.
#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct SentRows {
    pub(crate) message: MessageRow,
    pub(crate) reply: MessageRow,
    /// The thread, when this send named it (its first question, under the default
    /// title).
    pub(crate) retitled: Option<ThreadRow>,
}

/// Checks that refuse any new message: the thread is there, not archived, and not
/// generating a reply already.
fn writable_thread_checks() -> String {
    format!(
        "LET $t = SELECT archived_at, project, title FROM ONLY $thread;
         IF $t = NONE {{ THROW '{not_found}'; }};
         IF $t.archived_at != NONE {{ THROW '{archived}'; }};
         IF array::len(SELECT VALUE id FROM message WHERE thread = $thread AND status = 'streaming' LIMIT 1) > 0 {{
             THROW '{busy}';
         }};",
        not_found = codes::NOT_FOUND,
        archived = codes::ARCHIVED,
        busy = codes::REPLY_IN_PROGRESS,
    )
}

/// Counts `$added` new messages on the thread and its project.
const COUNT_MESSAGES: &str = "
    UPDATE $thread SET message_count += $added, last_message_at = time::now(),
        updated_at = time::now() RETURN NONE;
    UPDATE $t.project SET stats.message_count += $added, stats.last_chat_at = time::now(),
        last_activity_at = time::now() RETURN NONE;";

/// Where a new question goes in the tree.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Parent<'a> {
    /// After the thread's newest message.
    Newest,
    /// After this message.
    Message(&'a str),
    /// A new branch from the thread's start.
    Start,
}

/// Stores a user message after `parent_id` (by default the thread's newest message)
/// and the empty reply being generated for it; a thread still under the default title
/// is named `title` (taken from its first question). THROWs [`codes::NOT_FOUND`],
/// [`codes::ARCHIVED`], [`codes::REPLY_IN_PROGRESS`] or [`codes::BAD_PARENT`].
pub(crate) async fn send(
    db: &Db,
    thread_id: &str,
    author: &str,
    content: &str,
    parent: Parent<'_>,
    model: &str,
) -> Result<SentRows, DbError> {
    let sent: Option<SentRows> = Transaction::new(format!(
        "LET $thread = type::record('thread', $thread_id);
         {checks}
         LET $parent = IF $parent_id != NONE THEN type::record('message', $parent_id)
             ELSE IF $at_start THEN NONE
             ELSE (SELECT VALUE id FROM message WHERE thread = $thread ORDER BY created_at DESC LIMIT 1)[0] END;
         IF $parent != NONE AND (SELECT VALUE thread FROM ONLY $parent) != $thread {{ THROW '{bad_parent}'; }};
         LET $message = CREATE ONLY message CONTENT {{
             thread: $thread, parent: $parent, author: type::record('user', $author),
             role: 'user', content: $content
         }};
         -- Strictly after its question, so the two never tie in an ordering.
         LET $reply = CREATE ONLY message CONTENT {{
             thread: $thread, parent: $message.id, role: 'assistant', content: '',
             status: 'streaming', model: $model, created_at: $message.created_at + 1us
         }};
         LET $retitle = $title != NONE AND $t.title = $default_title;
         IF $retitle {{ UPDATE $thread SET title = $title RETURN NONE; }};
         LET $added = 2;
         {COUNT_MESSAGES}
         LET $result = {{
             message: (SELECT {fields} FROM ONLY $message.id),
             reply: (SELECT {fields} FROM ONLY $reply.id),
             retitled: IF $retitle THEN (SELECT {thread_fields} FROM ONLY $thread) ELSE NONE END
         }};",
        checks = writable_thread_checks(),
        bad_parent = codes::BAD_PARENT,
        fields = message_fields(),
        thread_fields = thread_fields(),
    ))
    .bind("title", kiln_types::title_from_question(content))
    .bind("default_title", kiln_types::DEFAULT_THREAD_TITLE.to_owned())
    .bind("thread_id", thread_id.to_owned())
    .bind("author", author.to_owned())
    .bind("content", content.to_owned())
    .bind(
        "parent_id",
        match parent {
            Parent::Message(id) => Some(id.to_owned()),
            _ => None,
        },
    )
    .bind("at_start", matches!(parent, Parent::Start))
    .bind("model", model.to_owned())
    .run(db)
    .await?;
    sent.ok_or_else(|| DbError::Thrown(codes::NOT_FOUND.into()))
}

/// A new empty reply beside `message_id` (an assistant reply) or to it (a user
/// message). THROWs like [`send`].
pub(crate) async fn regenerate(
    db: &Db,
    message_id: &str,
    model: &str,
) -> Result<MessageRow, DbError> {
    let reply: Option<MessageRow> = Transaction::new(format!(
        "LET $old = SELECT thread, parent, role FROM ONLY type::record('message', $id);
         IF $old = NONE {{ THROW '{not_found}'; }};
         LET $thread = $old.thread;
         {checks}
         LET $reply = CREATE ONLY message CONTENT {{
             thread: $thread,
             parent: IF $old.role = 'assistant' THEN $old.parent ELSE type::record('message', $id) END,
             role: 'assistant', content: '', status: 'streaming', model: $model
         }};
         LET $added = 1;
         {COUNT_MESSAGES}
         LET $result = SELECT {fields} FROM ONLY $reply.id;",
        not_found = codes::NOT_FOUND,
        checks = writable_thread_checks(),
        fields = message_fields(),
    ))
    .bind("id", message_id.to_owned())
    .bind("model", model.to_owned())
    .run(db)
    .await?;
    reply.ok_or_else(|| DbError::Thrown(codes::NOT_FOUND.into()))
}

pub(crate) async fn get_message(db: &Db, id: &str) -> Result<Option<MessageRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM ONLY type::record('message', $id)",
            message_fields()
        ))
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// A page of a thread's messages (every branch), newest first.
pub(crate) async fn list_messages(
    db: &Db,
    thread_id: &str,
    request: &PageRequest,
) -> Result<Vec<MessageRow>, DbError> {
    let (position, order, limit) = request.clauses("message", "created_at");
    let (cursor_time, cursor_id) = request.bindings();
    let mut response = db
        .query(format!(
            "SELECT {} FROM message WHERE thread = type::record('thread', $thread)
                 AND {position} {order} LIMIT {limit}",
            message_fields()
        ))
        .bind(("thread", thread_id.to_owned()))
        .bind(("cursor_time", cursor_time))
        .bind(("cursor_id", cursor_id))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// The newest `limit` messages of a thread, newest first: what a prompt's history is
/// taken from.
pub(crate) async fn recent_messages(
    db: &Db,
    thread_id: &str,
    limit: u32,
) -> Result<Vec<MessageRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {} FROM message WHERE thread = type::record('thread', $thread)
                 ORDER BY created_at DESC LIMIT {limit}",
            message_fields()
        ))
        .bind(("thread", thread_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// Refuses a change to a question whose reply is still being generated (the reply
/// would answer a text that no longer exists).
fn no_reply_streaming() -> String {
    format!(
        "IF array::len(SELECT VALUE id FROM message WHERE parent = $message AND status = 'streaming' LIMIT 1) > 0 {{
             THROW '{busy}';
         }};",
        busy = codes::REPLY_IN_PROGRESS,
    )
}

/// Replaces a message's text, keeping the old one in its history. THROWs
/// [`codes::ARCHIVED`], [`codes::EDIT_LIMIT`] or [`codes::REPLY_IN_PROGRESS`].
pub(crate) async fn edit_message(
    db: &Db,
    id: &str,
    editor: &str,
    content: &str,
) -> Result<MessageRow, DbError> {
    let edited: Option<MessageRow> = Transaction::new(format!(
        "LET $message = type::record('message', $id);
         LET $old = SELECT content, thread, edit_count FROM ONLY $message;
         IF $old = NONE {{ THROW '{not_found}'; }};
         IF (SELECT VALUE archived_at FROM ONLY $old.thread) != NONE {{ THROW '{archived}'; }};
         IF $old.edit_count >= {max} {{ THROW '{limit}'; }};
         {streaming}
         IF $old.content != $content {{
             CREATE message_edit CONTENT {{
                 message: $message, previous_content: $old.content,
                 editor: type::record('user', $editor)
             }} RETURN NONE;
             UPDATE $message SET content = $content, edited_at = time::now(),
                 edit_count += 1 RETURN NONE;
         }};
         LET $result = SELECT {fields} FROM ONLY $message;",
        not_found = codes::NOT_FOUND,
        archived = codes::ARCHIVED,
        max = kiln_types::MESSAGE_EDITS_MAX,
        limit = codes::EDIT_LIMIT,
        streaming = no_reply_streaming(),
        fields = message_fields(),
    ))
    .bind("id", id.to_owned())
    .bind("editor", editor.to_owned())
    .bind("content", content.to_owned())
    .run(db)
    .await?;
    edited.ok_or_else(|| DbError::Thrown(codes::NOT_FOUND.into()))
}

/// Deletes a message; its replies and follow-ups move up to its parent, so no branch
/// is cut off. THROWs [`codes::ARCHIVED`] or [`codes::REPLY_IN_PROGRESS`].
pub(crate) async fn delete_message(db: &Db, id: &str) -> Result<(), DbError> {
    Transaction::new(format!(
        "LET $message = type::record('message', $id);
         LET $old = SELECT thread, parent FROM ONLY $message;
         IF $old = NONE {{ THROW '{not_found}'; }};
         LET $thread = $old.thread;
         LET $t = SELECT archived_at, project FROM ONLY $thread;
         IF $t.archived_at != NONE {{ THROW '{archived}'; }};
         {streaming}
         UPDATE message SET parent = $old.parent WHERE parent = $message RETURN NONE;
         DELETE $message;
         UPDATE $thread SET message_count = math::max([0, message_count - 1]),
             updated_at = time::now() RETURN NONE;
         UPDATE $t.project SET stats.message_count = math::max([0, stats.message_count - 1]),
             last_activity_at = time::now() RETURN NONE;",
        not_found = codes::NOT_FOUND,
        archived = codes::ARCHIVED,
        streaming = no_reply_streaming(),
    ))
    .bind("id", id.to_owned())
    .run::<surrealdb::types::Value>(db)
    .await?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct EditRow {
    id: String,
    message_id: String,
    previous_content: String,
    editor_id: Option<String>,
    edited_at: String,
}

impl From<EditRow> for MessageEdit {
    fn from(row: EditRow) -> Self {
        MessageEdit {
            id: row.id,
            message_id: row.message_id,
            previous_content: row.previous_content,
            editor_id: row.editor_id,
            edited_at: row.edited_at,
        }
    }
}

/// A message's earlier versions, newest first (at most [`kiln_types::MESSAGE_EDITS_MAX`]).
pub(crate) async fn edits(db: &Db, message_id: &str) -> Result<Vec<EditRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT record::id(id) AS id, record::id(message) AS message_id, previous_content,
                    {} AS editor_id, time::format(edited_at, '{TIME_FORMAT}') AS edited_at
             FROM message_edit WHERE message = type::record('message', $id)
             ORDER BY edited_at DESC",
            key_or_none("editor")
        ))
        .bind(("id", message_id.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// Saves the text a reply has so far, while it is still streaming; `false` when it is
/// not streaming any more or is gone (its thread or project was deleted).
pub(crate) async fn save_partial(db: &Db, id: &str, content: &str) -> Result<bool, DbError> {
    let mut response = db
        .query(
            "UPDATE type::record('message', $id) SET content = $content
             WHERE status = 'streaming' RETURN VALUE id",
        )
        .bind(("id", id.to_owned()))
        .bind(("content", content.to_owned()))
        .await?
        .check()?;
    let saved: Vec<surrealdb::types::RecordId> = response.take(0)?;
    Ok(!saved.is_empty())
}

/// A reply's final state.
pub(crate) struct Finished<'a> {
    pub(crate) content: &'a str,
    pub(crate) status: MessageStatus,
    pub(crate) model: Option<&'a str>,
    pub(crate) error: Option<&'a str>,
    pub(crate) citations: &'a [Citation],
    pub(crate) snippets: &'a [Snippet],
}

/// Writes a streaming reply's final state; `None` when it was not streaming any more
/// (or is gone).
pub(crate) async fn finish(
    db: &Db,
    id: &str,
    finished: Finished<'_>,
) -> Result<Option<MessageRow>, DbError> {
    let citations: Vec<serde_json::Value> = finished
        .citations
        .iter()
        .map(|c| {
            serde_json::json!({
                "file_id": c.file_id, "path": c.path, "version": c.version,
                "start_line": c.start_line, "end_line": c.end_line,
            })
        })
        .collect();
    // An absent language is left out: `option<string>` takes NONE, never JSON null.
    let snippets: Vec<serde_json::Value> = finished
        .snippets
        .iter()
        .map(|snippet| {
            let mut object = serde_json::json!({
                "info": snippet.info, "code": snippet.code,
                "start_line": snippet.start_line, "end_line": snippet.end_line,
            });
            if let (Some(language), Some(map)) = (&snippet.language, object.as_object_mut()) {
                map.insert("language".into(), language.clone().into());
            }
            object
        })
        .collect();
    let mut response = db
        .query(format!(
            "LET $updated = (UPDATE type::record('message', $id) SET content = $content,
                 status = $status, model = $model, error = $error, citations = $citations,
                 snippets = $snippets WHERE status = 'streaming' RETURN VALUE id);
             IF array::len($updated) > 0 {{ (SELECT {} FROM ONLY type::record('message', $id)) }};",
            message_fields()
        ))
        .bind(("id", id.to_owned()))
        .bind(("content", finished.content.to_owned()))
        .bind(("status", finished.status.as_str().to_owned()))
        .bind(("model", finished.model.map(str::to_owned)))
        .bind(("error", finished.error.map(str::to_owned)))
        .bind(("citations", serde_json::Value::Array(citations)))
        .bind(("snippets", serde_json::Value::Array(snippets)))
        .await?
        .check()?;
    Ok(response.take(1)?)
}

/// Ends a reply that is still `streaming` with `status` (and `error`), keeping its
/// text, model and citations; `None` when it was not streaming.
pub(crate) async fn end_reply(
    db: &Db,
    id: &str,
    status: MessageStatus,
    error: Option<&str>,
) -> Result<Option<MessageRow>, DbError> {
    let mut response = db
        .query(format!(
            "LET $updated = (UPDATE type::record('message', $id) SET status = $status, error = $error
                 WHERE status = 'streaming' RETURN VALUE id);
             IF array::len($updated) > 0 {{ (SELECT {} FROM ONLY type::record('message', $id)) }};",
            message_fields()
        ))
        .bind(("id", id.to_owned()))
        .bind(("status", status.as_str().to_owned()))
        .bind(("error", error.map(str::to_owned)))
        .await?
        .check()?;
    Ok(response.take(1)?)
}

/// Replies left `streaming` by a process that stopped: marked failed, with `error`.
pub(crate) async fn fail_interrupted(db: &Db, error: &str) -> Result<usize, DbError> {
    let mut response = db
        .query("UPDATE message SET status = 'failed', error = $error WHERE status = 'streaming' RETURN VALUE id")
        .bind(("error", error.to_owned()))
        .await?
        .check()?;
    let ids: Vec<surrealdb::types::Value> = response.take(0)?;
    Ok(ids.len())
}

/// The current version of each of `file_ids` that is live (deleted files are left out).
pub(crate) async fn live_versions(
    db: &Db,
    file_ids: Vec<String>,
) -> Result<Vec<(String, u64)>, DbError> {
    #[derive(SurrealValue)]
    #[surreal(crate = "surrealdb::types")]
    struct Row {
        id: String,
        version: i64,
    }
    let mut response = db
        .query(
            "SELECT record::id(id) AS id, version FROM $ids.map(|$i| type::record('file', $i))
             WHERE deleted_at = NONE",
        )
        .bind(("ids", file_ids))
        .await?
        .check()?;
    let rows: Vec<Row> = response.take(0)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.id, u64::try_from(row.version).unwrap_or(0)))
        .collect())
}
