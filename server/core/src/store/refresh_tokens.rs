//! The `refresh_token` table: tokens stored only as their SHA-256 (the record key),
//! grouped into families (one per login session).

use std::time::Duration;

use surrealdb::types::SurrealValue;

use super::DbError;
use crate::db::Db;

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct TokenRow {
    pub(crate) user_id: String,
    pub(crate) family: String,
    pub(crate) csrf: String,
    pub(crate) used: bool,
    pub(crate) revoked: bool,
    pub(crate) expired: bool,
}

const TOKEN_FIELDS: &str = "record::id(user) AS user_id, family, csrf, \
     used_at != NONE AS used, revoked_at != NONE AS revoked, expires_at <= time::now() AS expired";

/// Stores the token whose SHA-256 is `hash`, valid for `ttl`.
pub(crate) async fn create(
    db: &Db,
    hash: &str,
    user_id: &str,
    family: &str,
    csrf_token: &str,
    ttl: Duration,
) -> Result<(), DbError> {
    db.query(
        "CREATE type::record('refresh_token', $hash) CONTENT {
             user: type::record('user', $user), family: $family, csrf: $csrf,
             expires_at: time::now() + <duration> $ttl
         } RETURN NONE",
    )
    .bind(("hash", hash.to_owned()))
    .bind(("user", user_id.to_owned()))
    .bind(("family", family.to_owned()))
    .bind(("csrf", csrf_token.to_owned()))
    .bind(("ttl", format!("{}s", ttl.as_secs())))
    .await?
    .check()?;
    Ok(())
}

pub(crate) async fn get(db: &Db, hash: &str) -> Result<Option<TokenRow>, DbError> {
    let mut response = db
        .query(format!(
            "SELECT {TOKEN_FIELDS} FROM ONLY type::record('refresh_token', $hash)"
        ))
        .bind(("hash", hash.to_owned()))
        .await?
        .check()?;
    Ok(response.take(0)?)
}

/// Marks the token used unless it already is (or is revoked); whether this call did.
pub(crate) async fn spend(db: &Db, hash: &str) -> Result<bool, DbError> {
    let mut response = db
        .query(
            "UPDATE type::record('refresh_token', $hash) SET used_at = time::now()
             WHERE used_at = NONE AND revoked_at = NONE RETURN VALUE family",
        )
        .bind(("hash", hash.to_owned()))
        .await?
        .check()?;
    let spent: Vec<String> = response.take(0)?;
    Ok(!spent.is_empty())
}

/// Revokes every live token of `user_id`; returns their families (sessions), each once.
pub(crate) async fn revoke_user(db: &Db, user_id: &str) -> Result<Vec<String>, DbError> {
    let mut response = db
        .query(
            "UPDATE refresh_token SET revoked_at = time::now()
             WHERE user = type::record('user', $user) AND revoked_at = NONE
             RETURN VALUE family",
        )
        .bind(("user", user_id.to_owned()))
        .await?
        .check()?;
    let mut families: Vec<String> = response.take(0)?;
    families.sort_unstable();
    families.dedup();
    Ok(families)
}

/// Revokes every live token of one family (session).
pub(crate) async fn revoke_family(db: &Db, family: &str) -> Result<(), DbError> {
    db.query(
        "UPDATE refresh_token SET revoked_at = time::now()
         WHERE family = $family AND revoked_at = NONE RETURN NONE",
    )
    .bind(("family", family.to_owned()))
    .await?
    .check()?;
    Ok(())
}
