use serde::{Deserialize, Serialize};

/// Declares the event kinds once: the enum, its wire names and the list of known
/// kinds all come from one table.
macro_rules! event_types {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// What happened. New kinds are added as features arrive (one line in the table
        /// below); clients treat unknown kinds as generic events.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        // The wire names are the variants in snake_case: said once here for the OpenAPI
        // schema (which does not see renames passed through this macro), and per variant
        // for serde; a unit test keeps the two in step.
        #[serde(rename_all = "snake_case")]
        pub enum EventType {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
            /// A kind this build does not know yet (a newer server).
            #[serde(other, rename = "other")]
            Other,
        }

        impl EventType {
            /// Every kind this build knows.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),*];

            /// The wire name, e.g. `status_changed`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                    Self::Other => "other",
                }
            }
        }
    };
}

event_types! {
    ProjectCreated => "project_created",
    ProjectUpdated => "project_updated",
    StatusChanged => "status_changed",
    ProjectDeleted => "project_deleted",
    FileUploaded => "file_uploaded",
    FileUpdated => "file_updated",
    FileDeleted => "file_deleted",
    ThreadCreated => "thread_created",
    ThreadArchived => "thread_archived",
    ThreadDeleted => "thread_deleted",
}

impl EventType {
    pub fn parse(value: &str) -> Option<Self> {
        Self::KNOWN
            .iter()
            .copied()
            .find(|kind| kind.as_str() == value)
    }
}

/// One entry of a project's timeline or of the activity feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub project_id: String,
    /// The user who caused it.
    pub actor_id: Option<String>,
    /// One line for people, e.g. `Status changed from active to paused`.
    pub title: String,
    /// Details by type: `changes: {field: {from, to}}` for updates, `from`/`to` for
    /// status changes, `name` for creation and deletion.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: serde_json::Value,
    /// RFC 3339, UTC.
    pub created_at: String,
}

pub const PAGE_DEFAULT_LIMIT: u32 = 20;
pub const PAGE_MAX_LIMIT: u32 = 100;

/// Query of every paginated list: `?limit=20&after=<cursor>` for the next (older)
/// page, `?before=<cursor>` for the previous (newer) one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageQuery {
    /// 1–100, default 20.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    /// Items after (older than) this cursor.
    #[serde(default)]
    pub after: Option<String>,
    /// Items before (newer than) this cursor.
    #[serde(default)]
    pub before: Option<String>,
    /// Timeline only: comma-separated event types to keep.
    #[serde(default, rename = "type")]
    pub event_type: Option<String>,
}

/// A page of a list, newest first, and how to get the pages around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Pass as `before` for the previous (newer) page; `null` on the first page.
    pub prev_cursor: Option<String>,
}
