//! Refresh tokens: random, single use, stored only as their SHA-256 (the record key),
//! grouped into families (one per login).

use std::time::Duration;

use subtle::ConstantTimeEq;

use super::{random_token, revoked::RevokedSessions};
use crate::{
    ServiceError,
    db::Db,
    store::refresh_tokens::{self as store, Spend, TokenRow},
};

/// How long after its first use a refresh token may be presented again as part of
/// the same burst — two tabs, parallel API calls that all got a 401, a client retrying
/// after the response was lost — and get a successor instead of ending the session.
/// After it, a second use is a replay and ends the session. Why that is safe: the
/// window opens only when the legitimate client itself refreshes, so a stolen token is
/// worth something to a thief only if used within these seconds of that moment (and
/// a browser's token also needs the session's CSRF token); any use after them still
/// revokes the whole family, successors included.
pub const REUSE_GRACE: Duration = Duration::from_secs(30);

/// What a spent refresh token carried over to its successor.
pub struct Spent {
    pub user_id: String,
    pub family: String,
    pub csrf_token: String,
}

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
        store::create(
            &self.db,
            &digest(&token),
            user_id,
            family,
            csrf_token,
            self.ttl,
        )
        .await?;
        Ok(token)
    }

    /// Marks `token` used and returns what its successor inherits. Presented again
    /// within [`REUSE_GRACE`] of its first use, it is a concurrent refresh and gets a
    /// successor of its own; later, it is a replay and revokes its whole family.
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
        match store::spend(&self.db, &hash, REUSE_GRACE).await? {
            Spend::Spent => {}
            Spend::Concurrent => {
                tracing::info!(user = %row.user_id, "concurrent refresh with one token; both continue the session");
            }
            Spend::Replayed => {
                self.revoke_family(&row.family).await?;
                tracing::warn!(user = %row.user_id, "a spent refresh token was presented again; session revoked");
                return Err(session_ended());
            }
            Spend::Ended => return Err(session_ended()),
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
        let families = store::revoke_user(&self.db, user_id).await?;
        for family in families {
            self.revoked.insert(&family);
        }
        Ok(())
    }

    pub async fn revoke_family(&self, family: &str) -> Result<(), ServiceError> {
        self.revoked.insert(family);
        Ok(store::revoke_family(&self.db, family).await?)
    }

    async fn row(&self, hash: &str) -> Result<Option<TokenRow>, ServiceError> {
        Ok(store::get(&self.db, hash).await?)
    }
}
