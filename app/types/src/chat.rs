//! Chat: threads, messages, their edit history, and the frames of a thread's
//! WebSocket (`GET /api/threads/{thread_id}/ws`).

use serde::{Deserialize, Serialize};

use crate::{ApiError, Snippet};

/// Longest thread title, in characters.
pub const THREAD_TITLE_MAX_CHARS: usize = 200;
/// Default largest message, in bytes of UTF-8 (`KILN_MESSAGE_MAX_BYTES`).
pub const MESSAGE_MAX_BYTES: usize = 50 * 1024;
/// Earlier versions kept per message; the database refuses more.
pub const MESSAGE_EDITS_MAX: usize = 50;
/// Title of a thread created without one.
pub const DEFAULT_THREAD_TITLE: &str = "New chat";

/// A conversation inside a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thread {
    pub id: String,
    pub project_id: String,
    pub title: String,
    /// RFC 3339, UTC; set while the thread is archived (read-only).
    pub archived_at: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// RFC 3339, UTC; `null` before the first message.
    pub last_message_at: Option<String>,
    /// Messages in every branch.
    pub message_count: u64,
}

/// `POST /api/projects/{project_id}/threads`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewThread {
    /// 1–200 characters; "New chat" when left out.
    #[serde(default)]
    pub title: Option<String>,
}

/// `PATCH /api/threads/{thread_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThreadPatch {
    /// 1–200 characters.
    pub title: String,
}

/// Query of `GET /api/projects/{project_id}/threads`: a page of the active threads,
/// or with `archived=true` of the archived ones, most recently active first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ThreadListQuery {
    /// 1–100, default 20.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    /// Threads after (older than) this cursor.
    #[serde(default)]
    pub after: Option<String>,
    /// Threads before (newer than) this cursor.
    #[serde(default)]
    pub before: Option<String>,
    /// `true`: the archived threads instead of the active ones.
    #[serde(default)]
    pub archived: Option<bool>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    User,
    Assistant,
}

/// Where a message is in its life. Only assistant replies are ever other than
/// `complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Complete,
    /// The reply is being generated; `content` is what arrived so far.
    Streaming,
    /// Stopped by the user; `content` is what arrived before.
    Stopped,
    /// The model could not answer; `error` says why, in words for people.
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Streaming => "streaming",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Complete, Self::Streaming, Self::Stopped, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

/// Code a reply was grounded in: lines of one version of a project file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Citation {
    pub file_id: String,
    pub path: String,
    /// The file's version the lines were read from.
    pub version: u64,
    /// 1-based, inclusive.
    pub start_line: u32,
    /// 1-based, inclusive.
    pub end_line: u32,
    /// The file has a newer version (or is deleted) since: the lines are still those
    /// of `version`.
    #[serde(default)]
    pub changed: bool,
}

/// One message of a thread. Messages form a tree through `parent_id`: editing and
/// asking again, or regenerating, adds a sibling branch and never removes anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: String,
    pub thread_id: String,
    /// The message this one answers or follows; `null` for the first of a branch
    /// from the start of the thread.
    pub parent_id: Option<String>,
    pub role: MessageRole,
    /// The user who wrote it; `null` for the assistant.
    pub author_id: Option<String>,
    pub content: String,
    pub status: MessageStatus,
    /// The model that answered (assistant replies).
    pub model: Option<String>,
    /// Why a reply failed, in words for people.
    pub error: Option<String>,
    /// The code the reply was grounded in.
    #[serde(default)]
    pub citations: Vec<Citation>,
    /// The code blocks of a finished reply, as the snippet extractor found them.
    #[serde(default)]
    pub snippets: Vec<Snippet>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; set once the author has edited it.
    pub edited_at: Option<String>,
}

/// `POST /api/threads/{thread_id}/messages` and the `send_message` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMessage {
    /// 1 byte up to the configured limit (50 KB by default).
    pub content: String,
    /// The message this one follows. Left out: the newest message of the thread's
    /// newest branch. Give the parent of an earlier question to edit it and ask again
    /// (a new branch beside the old one).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// `true`: a new branch from the thread's start (asking the first question again);
    /// `parent_id` must then be left out.
    #[serde(default)]
    pub at_start: bool,
}

/// `PATCH /api/messages/{message_id}`: a new text for one's own message; the old one
/// goes to its edit history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePatch {
    pub content: String,
}

/// What a message said before an edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageEdit {
    pub id: String,
    pub message_id: String,
    pub previous_content: String,
    pub editor_id: Option<String>,
    /// RFC 3339, UTC.
    pub edited_at: String,
}

/// Answer to sending a message: the stored message, and the reply that is now being
/// generated (its text arrives over the thread's WebSocket; a reload shows it too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentMessage {
    pub message: Message,
    pub reply: Message,
}

/// A message as the thread page shows it: with its Markdown rendered to sanitised
/// HTML on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub message: Message,
    pub html: String,
}

/// What the thread page starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    pub thread: Thread,
    /// The name of the thread's project (for the breadcrumb).
    #[serde(default)]
    pub project_name: String,
    /// The newest messages of every branch, newest first.
    pub messages: Vec<ChatMessage>,
    /// Pass back to load older messages; `None` when these reach the start.
    pub older_cursor: Option<String>,
}

/// What a client sends on a thread's WebSocket: JSON text frames tagged by `type`.
/// Every command with a `command_id` gets exactly one `ack` or `error` carrying it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientCommand {
    SendMessage {
        #[serde(default)]
        command_id: Option<String>,
        content: String,
        #[serde(default)]
        parent_id: Option<String>,
        #[serde(default)]
        at_start: bool,
    },
    EditMessage {
        #[serde(default)]
        command_id: Option<String>,
        message_id: String,
        content: String,
    },
    DeleteMessage {
        #[serde(default)]
        command_id: Option<String>,
        message_id: String,
    },
    StopGeneration {
        #[serde(default)]
        command_id: Option<String>,
        message_id: String,
    },
    Regenerate {
        #[serde(default)]
        command_id: Option<String>,
        message_id: String,
    },
    /// The user is typing; others watching the thread see `typing`.
    Typing {
        #[serde(default)]
        command_id: Option<String>,
    },
    /// Replays the reply `message_id` after chunk `after_seq` (from its start when
    /// left out), then goes on live.
    Resume {
        #[serde(default)]
        command_id: Option<String>,
        message_id: String,
        #[serde(default)]
        after_seq: Option<u64>,
    },
}

impl ClientCommand {
    /// Every command's `type`.
    pub const KINDS: [&'static str; 7] = [
        "send_message",
        "edit_message",
        "delete_message",
        "stop_generation",
        "regenerate",
        "typing",
        "resume",
    ];

    /// The command's `type` (one of [`Self::KINDS`]).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SendMessage { .. } => "send_message",
            Self::EditMessage { .. } => "edit_message",
            Self::DeleteMessage { .. } => "delete_message",
            Self::StopGeneration { .. } => "stop_generation",
            Self::Regenerate { .. } => "regenerate",
            Self::Typing { .. } => "typing",
            Self::Resume { .. } => "resume",
        }
    }

    pub fn command_id(&self) -> Option<&str> {
        match self {
            Self::SendMessage { command_id, .. }
            | Self::EditMessage { command_id, .. }
            | Self::DeleteMessage { command_id, .. }
            | Self::StopGeneration { command_id, .. }
            | Self::Regenerate { command_id, .. }
            | Self::Typing { command_id }
            | Self::Resume { command_id, .. } => command_id.as_deref(),
        }
    }
}

/// What the server sends on a thread's WebSocket: JSON text frames tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Read through a flat twin: serde's internally tagged enums buffer each frame into an
// intermediate tree and compile every payload's decoder a second time for it — tens of
// KB of the thread page's bundle.
#[serde(try_from = "FrameWire")]
pub enum ServerFrame {
    MessageCreated {
        message: Message,
    },
    /// An edit, or a reply's final state (content, status, model, citations).
    MessageUpdated {
        message: Message,
    },
    MessageDeleted {
        thread_id: String,
        message_id: String,
    },
    /// A piece of a reply: `seq` starts at 0 and has no gaps; the last one has
    /// `is_final` (and may be empty).
    StreamChunk {
        message_id: String,
        seq: u64,
        delta: String,
        is_final: bool,
    },
    ThreadUpdated {
        thread: Thread,
    },
    /// The thread was deleted: the server closes the socket after this frame (close
    /// code 4404), and the thread's commands answer 404 from now on.
    ThreadDeleted {
        thread_id: String,
    },
    Typing {
        thread_id: String,
        user_id: String,
    },
    /// The command `command_id` succeeded; `message` is what it made or changed,
    /// `reply` the reply it started.
    Ack {
        command_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Box<Message>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<Box<Message>>,
    },
    /// A command failed (`command_id` names it), or a reply could not be generated.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command_id: Option<String>,
        error: ApiError,
    },
}

/// Every field any [`ServerFrame`] has, for reading one without buffering.
#[derive(Deserialize)]
struct FrameWire {
    #[serde(rename = "type")]
    kind: String,
    message: Option<Message>,
    reply: Option<Message>,
    message_id: Option<String>,
    thread_id: Option<String>,
    thread: Option<Thread>,
    user_id: Option<String>,
    seq: Option<u64>,
    delta: Option<String>,
    is_final: Option<bool>,
    command_id: Option<String>,
    error: Option<ApiError>,
}

impl TryFrom<FrameWire> for ServerFrame {
    type Error = String;

    fn try_from(wire: FrameWire) -> Result<Self, String> {
        fn required<T>(value: Option<T>, field: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("missing field `{field}`"))
        }
        Ok(match wire.kind.as_str() {
            "message_created" => Self::MessageCreated {
                message: required(wire.message, "message")?,
            },
            "message_updated" => Self::MessageUpdated {
                message: required(wire.message, "message")?,
            },
            "message_deleted" => Self::MessageDeleted {
                thread_id: required(wire.thread_id, "thread_id")?,
                message_id: required(wire.message_id, "message_id")?,
            },
            "stream_chunk" => Self::StreamChunk {
                message_id: required(wire.message_id, "message_id")?,
                seq: required(wire.seq, "seq")?,
                delta: required(wire.delta, "delta")?,
                is_final: required(wire.is_final, "is_final")?,
            },
            "thread_updated" => Self::ThreadUpdated {
                thread: required(wire.thread, "thread")?,
            },
            "thread_deleted" => Self::ThreadDeleted {
                thread_id: required(wire.thread_id, "thread_id")?,
            },
            "typing" => Self::Typing {
                thread_id: required(wire.thread_id, "thread_id")?,
                user_id: required(wire.user_id, "user_id")?,
            },
            "ack" => Self::Ack {
                command_id: required(wire.command_id, "command_id")?,
                message: wire.message.map(Box::new),
                reply: wire.reply.map(Box::new),
            },
            "error" => Self::Error {
                command_id: wire.command_id,
                error: required(wire.error, "error")?,
            },
            other => return Err(format!("unknown frame type {other:?}")),
        })
    }
}

impl ServerFrame {
    /// The frame's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MessageCreated { .. } => "message_created",
            Self::MessageUpdated { .. } => "message_updated",
            Self::MessageDeleted { .. } => "message_deleted",
            Self::StreamChunk { .. } => "stream_chunk",
            Self::ThreadUpdated { .. } => "thread_updated",
            Self::ThreadDeleted { .. } => "thread_deleted",
            Self::Typing { .. } => "typing",
            Self::Ack { .. } => "ack",
            Self::Error { .. } => "error",
        }
    }
}

/// A thread title as stored: trimmed, 1–200 characters.
pub fn validate_thread_title(title: &str) -> Result<String, ApiError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(ApiError::invalid_field("title", "must not be empty"));
    }
    if title.chars().count() > THREAD_TITLE_MAX_CHARS {
        return Err(ApiError::invalid_field(
            "title",
            format!("must be at most {THREAD_TITLE_MAX_CHARS} characters"),
        ));
    }
    if title.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "title",
            "must not contain control characters",
        ));
    }
    Ok(title.to_owned())
}

/// Message content: at least one non-blank character, at most `max_bytes` bytes.
pub fn validate_message_content(content: &str, max_bytes: usize) -> Result<(), ApiError> {
    if content.trim().is_empty() {
        return Err(ApiError::invalid_field("content", "must not be empty"));
    }
    if content.len() > max_bytes {
        return Err(ApiError::too_large(
            format!("a message is limited to {max_bytes} bytes"),
            max_bytes as u64,
        ));
    }
    if content.chars().any(is_refused_control) {
        return Err(ApiError::invalid_field(
            "content",
            "must not contain control characters other than tab, line breaks and form feed",
        ));
    }
    Ok(())
}

/// Control characters (Unicode category Cc) a message may not hold: everything but
/// tab, line feed, carriage return and form feed, which real source code contains.
fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')
}

/// The longest title [`title_from_question`] makes, in characters.
pub const AUTO_TITLE_MAX_CHARS: usize = 60;

/// A thread's title taken from its first question: the first line that has words
/// (code fences skipped), whitespace collapsed, cut at a word boundary to at most [`AUTO_TITLE_MAX_CHARS`]
/// characters (with "…" when cut). `None` when the question has no such line.
pub fn title_from_question(question: &str) -> Option<String> {
    let line = question
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|line| {
            !line.starts_with("```")
                && !line.starts_with("~~~")
                && line.chars().any(char::is_alphanumeric)
        })?;
    let line: String = line.chars().filter(|c| !c.is_control()).collect();
    if line.chars().count() <= AUTO_TITLE_MAX_CHARS {
        return Some(line);
    }
    let cut: String = line.chars().take(AUTO_TITLE_MAX_CHARS - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > cut.len() / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    Some(format!(
        "{}…",
        cut.trim_end_matches([' ', ',', ';', ':', '.'])
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_frames_use_the_documented_wire_names() {
        let command: ClientCommand = serde_json::from_str(
            r#"{"type":"resume","message_id":"m1","after_seq":3,"command_id":"c"}"#,
        )
        .unwrap();
        assert_eq!(
            command,
            ClientCommand::Resume {
                command_id: Some("c".into()),
                message_id: "m1".into(),
                after_seq: Some(3)
            }
        );
        let frame = ServerFrame::StreamChunk {
            message_id: "m1".into(),
            seq: 0,
            delta: "Hi".into(),
            is_final: false,
        };
        let json = serde_json::to_value(&frame).unwrap();
        assert_eq!(json["type"], frame.kind());
        assert_eq!(json["seq"], 0);
    }

    #[test]
    fn every_frame_reads_back_as_it_was_written() {
        let message = Message {
            id: "m".into(),
            thread_id: "t".into(),
            parent_id: None,
            role: MessageRole::Assistant,
            author_id: None,
            content: "hi".into(),
            status: MessageStatus::Complete,
            model: Some("small".into()),
            error: None,
            citations: vec![],
            snippets: vec![],
            created_at: "2026-12-01T00:00:00Z".into(),
            edited_at: None,
        };
        let thread = Thread {
            id: "t".into(),
            project_id: "p".into(),
            title: "T".into(),
            archived_at: None,
            created_at: "2026-12-01T00:00:00Z".into(),
            updated_at: "2026-12-01T00:00:00Z".into(),
            last_message_at: None,
            message_count: 2,
        };
        let frames = [
            ServerFrame::MessageCreated {
                message: message.clone(),
            },
            ServerFrame::MessageUpdated {
                message: message.clone(),
            },
            ServerFrame::MessageDeleted {
                thread_id: "t".into(),
                message_id: "m".into(),
            },
            ServerFrame::StreamChunk {
                message_id: "m".into(),
                seq: 4,
                delta: "x".into(),
                is_final: true,
            },
            ServerFrame::ThreadUpdated { thread },
            ServerFrame::ThreadDeleted {
                thread_id: "t".into(),
            },
            ServerFrame::Typing {
                thread_id: "t".into(),
                user_id: "u".into(),
            },
            ServerFrame::Ack {
                command_id: "c".into(),
                message: None,
                reply: Some(Box::new(message)),
            },
            ServerFrame::Error {
                command_id: None,
                error: ApiError::invalid_field("content", "must not be empty"),
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(
                serde_json::from_str::<ServerFrame>(&text).unwrap(),
                frame,
                "{text}"
            );
        }
        let unknown = serde_json::from_str::<ServerFrame>(r#"{"type":"fly"}"#).unwrap_err();
        assert!(
            unknown.to_string().contains("unknown frame type"),
            "{unknown}"
        );
        let incomplete = serde_json::from_str::<ServerFrame>(r#"{"type":"stream_chunk"}"#);
        assert!(
            incomplete
                .unwrap_err()
                .to_string()
                .contains("missing field")
        );
    }

    #[test]
    fn titles_and_content_are_checked() {
        assert_eq!(validate_thread_title("  Hi ").unwrap(), "Hi");
        assert!(validate_thread_title(" ").is_err());
        assert!(validate_thread_title(&"x".repeat(201)).is_err());
        assert!(validate_message_content("", 10).is_err());
        assert_eq!(
            validate_message_content("12345678901", 10)
                .unwrap_err()
                .limit,
            Some(10)
        );
        assert!(validate_message_content("é", 10).is_ok());
        assert!(validate_message_content("a\tb\r\n\u{c}c", 10).is_ok());
        for refused in ["a\0b", "\u{1b}[31mred", "a\u{7f}", "a\u{85}b"] {
            let error = validate_message_content(refused, 100).unwrap_err();
            assert_eq!(error.fields[0].field, "content", "{refused:?}");
        }
    }

    #[test]
    fn a_first_question_names_its_thread() {
        let title = |q: &str| title_from_question(q);
        assert_eq!(
            title("  \n```rust\nfn main() {}\n```").as_deref(),
            Some("fn main() {}")
        );
        assert_eq!(
            title("\n\nWhere is   the\tparser?\nmore").as_deref(),
            Some("Where is the parser?")
        );
        assert_eq!(title("  \n --- \n"), None);
        let long =
            "How does the indexer decide which files to parse again after a plugin was quarantined";
        let cut = title(long).unwrap();
        assert!(
            cut.ends_with('…') && cut.chars().count() <= AUTO_TITLE_MAX_CHARS,
            "{cut}"
        );
        assert!(
            long.starts_with(cut.trim_end_matches('…')),
            "cut at a word: {cut}"
        );
        let one_word = "x".repeat(100);
        assert_eq!(
            title(&one_word).unwrap().chars().count(),
            AUTO_TITLE_MAX_CHARS
        );
    }
}
