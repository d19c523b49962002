//! Renewing a session during a page load, once per refresh token.
//!
//! A browser restored after a while opens several tabs at once, each with the same
//! refresh cookie and no access cookie. Rotating the token once per page load would
//! make every load after the first look like a replayed token and end the session.
//! Page loads presenting the same refresh token within a short window share one
//! rotation instead. (Explicit `/api/auth/refresh` calls keep the strict rule.)

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use kiln_core::{AuthService, auth::Session};
use tokio::sync::OnceCell;

/// How long the outcome of one rotation is shared with later page loads.
const SHARE_FOR: Duration = Duration::from_secs(30);

type Outcome = Arc<OnceCell<Option<Session>>>;

#[derive(Default)]
pub struct SilentRefresh {
    recent: Mutex<HashMap<String, (Instant, Outcome)>>,
}

impl SilentRefresh {
    /// The renewed session, or `None` when the refresh token is no good.
    pub async fn renew(&self, auth: &AuthService, refresh_token: &str) -> Option<Session> {
        let outcome = {
            let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            recent.retain(|_, (started, _)| now.duration_since(*started) < SHARE_FOR);
            recent
                .entry(refresh_token.to_owned())
                .or_insert_with(|| (now, Arc::default()))
                .1
                .clone()
        };
        outcome
            .get_or_init(|| async {
                match auth.refresh(refresh_token, None).await {
                    Ok(session) => Some(session),
                    Err(error) => {
                        tracing::debug!(%error, "session could not be renewed");
                        None
                    }
                }
            })
            .await
            .clone()
    }
}
