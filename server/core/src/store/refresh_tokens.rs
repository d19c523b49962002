//! The `refresh_token` table: tokens stored only as their SHA-256 (the record key),
//! grouped into families (one per login session).

use std::time::Duration;

use surrealdb::types::SurrealValue;

use super::{DbError, Transaction};
use crate::db::Db;

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct TokenRow {
    pub(crate) user_id: String,
    pub(crate) family: String,
    pub(crate) csrf: String,
}

const TOKEN_FIELDS: &str = "record::id(user) AS user_id, family, csrf";

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

/// What presenting a refresh token did, decided in one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spend {
    /// First use: now marked used.
    Spent,
    /// Already used less than `grace` ago: a concurrent refresh (two tabs, parallel
    /// calls, a response lost on the way back), not a theft.
    Concurrent,
    /// Already used longer ago: a replay.
    Replayed,
    /// Unknown, revoked or expired.
    Ended,
}

/// Marks the token used if it is live and unused. Concurrent spenders conflict and the
/// transaction runs again, so the loser sees the winner's use — never an error.
pub(crate) async fn spend(db: &Db, hash: &str, grace: Duration) -> Result<Spend, DbError> {
    let outcome: Option<String> = Transaction::new(
        "LET $record = type::record('refresh_token', $hash);
         LET $t = SELECT used_at, revoked_at, expires_at FROM ONLY $record;
         LET $result = IF $t = NONE OR $t.revoked_at != NONE OR $t.expires_at <= time::now()
                 THEN 'ended'
             ELSE IF $t.used_at = NONE THEN 'spent'
             ELSE IF $t.used_at > time::now() - <duration>$grace THEN 'concurrent'
             ELSE 'replayed' END;
         IF $result = 'spent' { UPDATE $record SET used_at = time::now() RETURN NONE; };",
    )
    .bind("hash", hash.to_owned())
    .bind("grace", format!("{}ms", grace.as_millis()))
    .run(db)
    .await?;
    Ok(match outcome.as_deref().unwrap_or_default() {
        "spent" => Spend::Spent,
        "concurrent" => Spend::Concurrent,
        "replayed" => Spend::Replayed,
        _ => Spend::Ended,
    })
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
