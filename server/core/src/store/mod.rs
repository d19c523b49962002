//! Storage: what Kiln asks of SurrealDB, and what the answers mean.
//!
//! [`classify`] is the one place that reads a database error, [`Transaction`] the one
//! way to run several statements atomically, and `functions.surql` holds the database
//! functions: they are versioned with this binary and re-applied at every start, so
//! migrations keep schema and backfills only.

pub(crate) mod chat;
pub mod db;
mod error;
pub(crate) mod files;
pub mod migrations;
pub mod pagination;
pub(crate) mod plugin_settings;
pub(crate) mod projects;
pub(crate) mod refresh_tokens;
pub(crate) mod timeline;
mod tx;
pub mod usage;
pub(crate) mod users;

pub use error::{DbError, classify, classify_all, codes};
pub use tx::Transaction;

use crate::db::Db;

/// How times are shown to clients: RFC 3339, UTC, microseconds.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// The SurrealQL functions this build uses (`DEFINE FUNCTION OVERWRITE`).
const FUNCTIONS: &str = include_str!("functions.surql");

/// A fresh in-memory database with this build's schema and functions: what service
/// unit tests run on.
pub async fn in_memory() -> Result<Db, crate::ServiceError> {
    let db = db::connect(&db::DbConfig::memory()).await?;
    migrations::prepare(&db)
        .await
        .map_err(|error| crate::ServiceError::Internal(error.to_string()))?;
    Ok(db)
}

/// Defines (or redefines) every database function. Runs after the migrations, at every
/// start: a new build's functions replace the old ones in one transaction.
pub async fn install_functions(db: &Db) -> Result<(), DbError> {
    Transaction::new(FUNCTIONS)
        .run::<surrealdb::types::Value>(db)
        .await?;
    Ok(())
}
