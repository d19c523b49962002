//! Sessions ended on this server (logout, password change, replayed refresh token),
//! remembered for as long as their access tokens can live, so those tokens stop
//! working at once instead of at expiry.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::hub::{EventHub, Topic};

#[derive(Clone)]
pub struct RevokedSessions {
    ended: Arc<Mutex<HashMap<String, Instant>>>,
    /// The access-token lifetime: after it, no token of the session is valid anyway.
    remember_for: Duration,
    /// Where `session_ended` is announced, so long-lived connections close.
    hub: EventHub,
}

/// `{"type": "session_ended", "session_id": …}` on [`Topic::Session`].
#[derive(Serialize)]
#[serde(tag = "type", rename = "session_ended")]
struct SessionEnded<'a> {
    session_id: &'a str,
}

impl RevokedSessions {
    pub fn new(remember_for: Duration, hub: EventHub) -> Self {
        Self {
            ended: Arc::default(),
            remember_for,
            hub,
        }
    }

    /// Ends `session_id` on this server and announces it on the hub.
    pub fn insert(&self, session_id: &str) {
        {
            let mut ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            ended.retain(|_, at| now.duration_since(*at) < self.remember_for);
            ended.insert(session_id.to_owned(), now);
        }
        self.hub.publish(
            "session_ended",
            vec![Topic::Session(session_id.to_owned())],
            &SessionEnded { session_id },
        );
    }

    pub fn contains(&self, session_id: &str) -> bool {
        let ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        ended
            .get(session_id)
            .is_some_and(|at| at.elapsed() < self.remember_for)
    }
}
