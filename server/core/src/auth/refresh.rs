//! Refresh tokens: random, single use, stored only as their SHA-256 (the record key),
//! grouped into families (one per login).

use std::time::Duration;

use subtle::ConstantTimeEq;
use surrealdb::types::SurrealValue;

use super::{random_token, revoked::RevokedSessions};
use crate::{ServiceError, db::Db};

/// What a spent refresh token carried over to its successor.
pub struct Spent {
    pub user_id: String,
    pub family: String,
    pub csrf_token: String,
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct TokenRow {
    user_id: String,
    family: String,
    csrf: String,
    used: bool,
    revoked: bool,
    expired: bool,
}

const TOKEN_FIELDS: &str = "record::id(user) AS user_id, family, csrf, \
     used_at != NONE AS used, revoked_at != NONE AS revoked, expires_at <= time::now() AS expired";

#[derive(Clone)]
pub struct RefreshStore {
    db: Db,
    ttl: Duration,
    revoked: RevokedSessions,
}

fn digest(token: &str) -> String {
    kiln_plugin_host::sha256_hex(token.as_bytes())
}

fn session_ended() -> ServiceError {
    ServiceError::Unauthorized("the session has ended; log in again".into())
}

impl RefreshStore {
    pub fn new(db: Db, ttl: Duration, revoked: RevokedSessions) -> Self {
        Self { db, ttl, revoked }
    }

    /// Checks the session's CSRF token without spending the refresh token.
    pub async fn check_csrf(&self, token: &str, csrf_token: &str) -> Result<(), ServiceError> {
        let row = self.row(&digest(token)).await?.ok_or_else(session_ended)?;
        if bool::from(csrf_token.as_bytes().ct_eq(row.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(
                "missing or invalid CSRF token".into(),
            ))
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A new token of `family`, valid for the store's lifetime.
    pub async fn issue(
        &self,
        user_id: &str,
        family: &str,
        csrf_token: &str,
    ) -> Result<String, ServiceError> {
        let token = random_token::<32>()?;
        self.db
            .query(
                "CREATE type::record('refresh_token', $hash) CONTENT {
                     user: type::record('user', $user), family: $family, csrf: $csrf,
                     expires_at: time::now() + <duration> $ttl
                 } RETURN NONE",
            )
            .bind(("hash", digest(&token)))
            .bind(("user", user_id.to_owned()))
            .bind(("family", family.to_owned()))
            .bind(("csrf", csrf_token.to_owned()))
            .bind(("ttl", format!("{}s", self.ttl.as_secs())))
            .await?
            .check()?;
        Ok(token)
    }

    /// Marks `token` used and returns what its successor inherits. A token that was
    /// already used revokes its whole family.
    pub async fn spend(
        &self,
        token: &str,
        csrf_token: Option<&str>,
    ) -> Result<Spent, ServiceError> {
        let hash = digest(token);
        let row = self.row(&hash).await?.ok_or_else(session_ended)?;
        if let Some(presented) = csrf_token
            && !bool::from(presented.as_bytes().ct_eq(row.csrf.as_bytes()))
        {
            return Err(ServiceError::Forbidden(
                "missing or invalid CSRF token".into(),
            ));
        }
        if row.revoked || row.expired {
            return Err(session_ended());
        }
        if row.used {
            self.revoke_family(&row.family).await?;
            tracing::warn!(user = %row.user_id, "a spent refresh token was presented again; session revoked");
            return Err(session_ended());
        }
        // Spend it only if nobody else did in the meantime: of two concurrent refreshes
        // with one token, one wins and the other is treated as a replay.
        let mut response = self
            .db
            .query(
                "UPDATE type::record('refresh_token', $hash) SET used_at = time::now()
                 WHERE used_at = NONE AND revoked_at = NONE RETURN VALUE family",
            )
            .bind(("hash", hash))
            .await?
            .check()?;
        let spent: Vec<String> = response.take(0)?;
        if spent.is_empty() {
            self.revoke_family(&row.family).await?;
            return Err(session_ended());
        }
        Ok(Spent {
            user_id: row.user_id,
            family: row.family,
            csrf_token: row.csrf,
        })
    }

    pub async fn revoke_family_of(&self, token: &str) -> Result<(), ServiceError> {
        if let Some(row) = self.row(&digest(token)).await? {
            self.revoke_family(&row.family).await?;
            tracing::info!(user = %row.user_id, "logged out");
        }
        Ok(())
    }

    /// Ends every session of a user.
    pub async fn revoke_user(&self, user_id: &str) -> Result<(), ServiceError> {
        let mut response = self
            .db
            .query(
                "UPDATE refresh_token SET revoked_at = time::now()
                 WHERE user = type::record('user', $user) AND revoked_at = NONE
                 RETURN VALUE family",
            )
            .bind(("user", user_id.to_owned()))
            .await?
            .check()?;
        let families: Vec<String> = response.take(0)?;
        for family in families {
            self.revoked.insert(&family);
        }
        Ok(())
    }

    pub async fn revoke_family(&self, family: &str) -> Result<(), ServiceError> {
        self.revoked.insert(family);
        self.db
            .query(
                "UPDATE refresh_token SET revoked_at = time::now()
                 WHERE family = $family AND revoked_at = NONE RETURN NONE",
            )
            .bind(("family", family.to_owned()))
            .await?
            .check()?;
        Ok(())
    }

    async fn row(&self, hash: &str) -> Result<Option<TokenRow>, ServiceError> {
        let mut response = self
            .db
            .query(format!(
                "SELECT {TOKEN_FIELDS} FROM ONLY type::record('refresh_token', $hash)"
            ))
            .bind(("hash", hash.to_owned()))
            .await?
            .check()?;
        Ok(response.take(0)?)
    }
}
