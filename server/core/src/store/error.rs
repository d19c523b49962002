//! The one place that decides what a SurrealDB error means to Kiln.
//!
//! SurrealDB 3.3.5 gives most failures a kind (`Thrown`, `Query` with
//! `TransactionConflict` / `NotExecuted` details, `Connection`, `AlreadyExists`). A
//! UNIQUE index violation has none: it is an `Internal` error whose message starts with
//! ``Database index `<name>` already contains …`` and then quotes the conflicting value.
//! Only that fixed prefix is read, and only the index name — which is ours — is kept:
//! the quoted value is user text and is never looked at.

use std::collections::HashMap;

use surrealdb::types::QueryError;

/// `THROW '<code>'` codes raised by Kiln's own SurrealQL. A statement that throws one
/// of these is classified as [`DbError::Thrown`] with exactly this code.
pub mod codes {
    /// The row changed since the caller read it (optimistic locking).
    pub const STALE: &str = "stale";
    /// The row is not there (any more).
    pub const NOT_FOUND: &str = "not_found";
    /// The file is already deleted.
    pub const ALREADY_DELETED: &str = "already_deleted";
    /// The file is not deleted (so it cannot be undeleted).
    pub const NOT_DELETED: &str = "not_deleted";
    /// Registration is limited to the first account, and it exists.
    pub const REGISTRATION_CLOSED: &str = "registration_closed";
    /// The thread is archived, so read-only.
    pub const ARCHIVED: &str = "archived";
    /// A reply is being generated in the thread already.
    pub const REPLY_IN_PROGRESS: &str = "reply_in_progress";
    /// The parent named is not a message of this thread.
    pub const BAD_PARENT: &str = "bad_parent";
    /// The message has as many earlier versions as it may keep.
    pub const EDIT_LIMIT: &str = "edit_limit";
}

/// SurrealDB prefixes a `THROW`n value with this.
const THROWN_PREFIX: &str = "An error occurred: ";
/// `type::record('thread', '')` fails with "Found  for the Record ID but this is not
/// a valid id" (surrealdb-core's `Error::IdInvalid`).
const INVALID_ID_SUFFIX: &str = "for the Record ID but this is not a valid id";
/// A UNIQUE index violation's message starts with this, then the index name.
const UNIQUE_PREFIX: &str = "Database index `";

/// A database failure, classified.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Kiln's own SurrealQL refused the change with `THROW '<code>'` (see [`codes`]).
    #[error("refused by the database: {0}")]
    Thrown(String),
    /// A UNIQUE index refused a write. `index` is the index's name from the schema.
    #[error("unique index {index} refused the write")]
    Unique { index: String },
    /// A `CREATE` of a record id that exists.
    #[error("the record already exists")]
    RecordExists,
    /// Two transactions touched the same keys; running it again can succeed.
    #[error("transaction conflict")]
    Conflict,
    /// A record id that cannot be one (the empty string, from a path like
    /// `/api/threads//messages` or a body's `parent_id: ""`): nothing can have it.
    #[error("not a valid record id")]
    InvalidId,
    /// The database cannot be reached (remote server down, engine shutting down).
    #[error("database unavailable: {0}")]
    Unavailable(surrealdb::Error),
    /// Anything else: a bug or a broken database, answered as an internal error.
    #[error("database: {0}")]
    Other(surrealdb::Error),
}

impl DbError {
    /// Whether this is `THROW '<code>'`.
    pub fn is_thrown(&self, code: &str) -> bool {
        matches!(self, Self::Thrown(thrown) if thrown == code)
    }

    /// Whether the UNIQUE index `name` refused the write.
    pub fn is_unique(&self, name: &str) -> bool {
        matches!(self, Self::Unique { index } if index == name)
    }
}

impl From<surrealdb::Error> for DbError {
    fn from(error: surrealdb::Error) -> Self {
        classify(error)
    }
}

/// What one error means.
pub fn classify(error: surrealdb::Error) -> DbError {
    let message = error.message();
    if error.is_thrown() {
        let code = message.strip_prefix(THROWN_PREFIX).unwrap_or(message);
        return DbError::Thrown(code.to_owned());
    }
    if matches!(error.query_details(), Some(QueryError::TransactionConflict)) {
        return DbError::Conflict;
    }
    if error.is_connection() {
        return DbError::Unavailable(error);
    }
    if error.is_already_exists() {
        return DbError::RecordExists;
    }
    if message.ends_with(INVALID_ID_SUFFIX) {
        return DbError::InvalidId;
    }
    if let Some(index) = unique_index(message) {
        return DbError::Unique {
            index: index.to_owned(),
        };
    }
    DbError::Other(error)
}

/// The cause among the errors of a failed multi-statement query. In a failed
/// transaction every statement reports an error; all but the cause say "not executed".
pub fn classify_all(errors: HashMap<usize, surrealdb::Error>) -> Option<DbError> {
    let mut errors: Vec<_> = errors.into_iter().collect();
    errors.sort_by_key(|(index, _)| *index);
    // With no cause among them (a failed COMMIT), the last one says the most.
    let cause = errors
        .iter()
        .position(|(_, error)| !matches!(error.query_details(), Some(QueryError::NotExecuted)))
        .unwrap_or(errors.len().saturating_sub(1));
    (cause < errors.len()).then(|| classify(errors.swap_remove(cause).1))
}

/// The name in ``Database index `<name>` already contains …``.
fn unique_index(message: &str) -> Option<&str> {
    let rest = message.strip_prefix(UNIQUE_PREFIX)?;
    let (name, rest) = rest.split_once('`')?;
    rest.starts_with(" already contains").then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_name_is_read_from_the_prefix_only() {
        assert_eq!(
            unique_index(
                "Database index `file_project_path` already contains ['p', 'stale'], with record `file:x`"
            ),
            Some("file_project_path")
        );
        // A value that looks like another index never fools it.
        assert_eq!(
            unique_index("Found 'Database index `user_email` already contains' in field"),
            None
        );
        assert_eq!(unique_index("Database index `x`"), None);
    }
}
