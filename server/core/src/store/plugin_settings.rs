//! The `plugin_setting` table: administrators' enable/disable and priority choices,
//! kept across restarts.

use std::collections::HashMap;

use surrealdb::types::SurrealValue;

use super::DbError;
use crate::db::Db;

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct StoredSetting {
    plugin: String,
    enabled: bool,
    priority: i64,
}

/// Every stored setting: plugin id → (enabled, priority).
pub(crate) async fn all(db: &Db) -> Result<HashMap<String, (bool, i32)>, DbError> {
    let rows: Vec<StoredSetting> = db
        .query("SELECT record::id(id) AS plugin, enabled, priority FROM plugin_setting")
        .await?
        .check()?
        .take(0)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.plugin,
                (row.enabled, i32::try_from(row.priority).unwrap_or(0)),
            )
        })
        .collect())
}

pub(crate) async fn save(db: &Db, id: &str, enabled: bool, priority: i32) -> Result<(), DbError> {
    db.query("UPSERT type::record('plugin_setting', $id) SET enabled = $enabled, priority = $priority, updated_at = time::now()")
        .bind(("id", id.to_owned()))
        .bind(("enabled", enabled))
        .bind(("priority", i64::from(priority)))
        .await?
        .check()?;
    Ok(())
}

pub(crate) async fn delete(db: &Db, id: &str) -> Result<(), DbError> {
    db.query("DELETE type::record('plugin_setting', $id)")
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(())
}
