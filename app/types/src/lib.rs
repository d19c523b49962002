//! Types shared by the browser app and the server.
//!
//! Everything here compiles for `wasm32-unknown-unknown` as well as the server, so the
//! UI validates input with the very rules the service layer enforces.

mod auth;
mod chat;
mod code;
mod error;
mod file;
pub mod highlight;
mod ids;
mod plugin;
mod project;
mod snippet;
mod timeline;

pub use auth::{
    ACCESS_COOKIE, CSRF_COOKIE, CSRF_FORM_FIELD, CSRF_HEADER, ChangePassword, Credentials,
    EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, REFRESH_COOKIE, RefreshRequest,
    SessionView, TokenResponse, User, normalize_email, validate_new_password,
};
pub use chat::{
    ChatMessage, Citation, ClientCommand, DEFAULT_THREAD_TITLE, MESSAGE_EDITS_MAX,
    MESSAGE_MAX_BYTES, Message, MessageEdit, MessagePatch, MessageRole, MessageStatus, NewMessage,
    NewThread, SentMessage, ServerFrame, THREAD_TITLE_MAX_CHARS, Thread, ThreadListQuery,
    ThreadPatch, ThreadView, title_from_question, validate_message_content, validate_thread_title,
};
pub use code::{CodeChunk, CodeSymbol, ParsedFile, SymbolKind, TextSpan};
pub use error::{ApiError, CurrentVersion, ErrorKind, FieldError};
pub use file::{
    DiffLine, DiffLineKind, DiffQuery, FileDetail, FileDiff, FileEdit, FileSummary, FileVersion,
    IndexFailure, IndexState, IndexStatus, OutlineState, RestoreRequest, SearchHit, SearchQuery,
    SearchResults, UploadOutcome, UploadReport, UploadedFile,
};
pub use ids::{FileId, MessageId, ProjectId, ThreadId, UserId};
pub use plugin::{PluginPatch, PluginSummary};
pub use project::{
    NewProject, PROJECT_DESCRIPTION_MAX_CHARS, PROJECT_NAME_MAX_CHARS, PROJECT_SETTING_MAX_CHARS,
    Project, ProjectPatch, ProjectSettings, ProjectStats, ProjectStatus, SettingsPatch,
    StatusChange,
};
pub use snippet::{ExtractSnippetsRequest, ExtractSnippetsResponse, MARKDOWN_MAX_BYTES, Snippet};
pub use timeline::{EventType, PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT, Page, PageQuery, TimelineEvent};

use serde::{Deserialize, Serialize};

/// Body of `GET /health` and `GET /health/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthStatus {
    /// `ok` when healthy.
    pub status: String,
}
