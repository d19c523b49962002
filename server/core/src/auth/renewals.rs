//! Browser renewals, once per refresh token.
//!
//! A browser restored after a while opens several tabs at once, and open tabs renew
//! their access cookie on timers that may fire together: each request presents the
//! same refresh cookie. Rotating once per request would make all but the first look
//! like a replayed token and end the session. Renewals presenting the same token
//! within a short window share one rotation instead. (API clients calling
//! `/api/auth/refresh` keep the strict one-use rule.)

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;

use super::Session;

/// How long the outcome of one rotation is shared.
const SHARE_FOR: Duration = Duration::from_secs(30);

/// One rotation's outcome, shared by everyone who asks for it.
type Slot = Arc<OnceCell<Session>>;

#[derive(Clone, Default)]
pub struct Renewals {
    recent: Arc<Mutex<HashMap<String, (Instant, Slot)>>>,
}

impl Renewals {
    /// The shared outcome slot for `refresh_token` (only successes are ever stored).
    pub fn slot(&self, refresh_token: &str) -> Slot {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        recent.retain(|_, (started, _)| now.duration_since(*started) < SHARE_FOR);
        recent
            .entry(refresh_token.to_owned())
            .or_insert_with(|| (now, Arc::default()))
            .1
            .clone()
    }
}
