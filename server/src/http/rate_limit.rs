//! Rate limits: token buckets per client IP, per user, and a strict one per IP for the
//! routes that check passwords (brute force). Over the limit → 429 with `Retry-After`.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use kiln_core::Principal;
use kiln_types::{ApiError, ErrorKind};

use super::{ApiErrorResponse, AppState, RateClass};

/// Requests per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `RATE_LIMIT_IP_PER_MINUTE`: every API request of one client address.
    pub ip_per_minute: u32,
    /// `RATE_LIMIT_USER_PER_MINUTE`: every API request of one account.
    pub user_per_minute: u32,
    /// `RATE_LIMIT_AUTH_PER_MINUTE`: login and registration attempts of one address.
    pub auth_per_minute: u32,
    /// `RATE_LIMIT_TRUST_FORWARDED_FOR`: behind a reverse proxy, the client address is
    /// the last `X-Forwarded-For` entry (the one the proxy added).
    pub trust_forwarded_for: bool,
}

/// Above this many tracked clients, full (idle) buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

/// One token bucket per key: `per_minute` tokens, refilled continuously.
pub struct Limiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Limiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(key) {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second
                    < capacity
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

/// The three limiters of one server.
pub struct RateLimiters {
    settings: RateLimits,
    ip: Limiter,
    user: Limiter,
    auth: Limiter,
}

impl RateLimiters {
    pub fn new(settings: RateLimits) -> Arc<Self> {
        Arc::new(Self {
            settings,
            ip: Limiter::new(settings.ip_per_minute),
            user: Limiter::new(settings.user_per_minute),
            auth: Limiter::new(settings.auth_per_minute),
        })
    }

    fn client_ip(&self, request: &Request) -> Option<IpAddr> {
        if self.settings.trust_forwarded_for
            && let Some(ip) = request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .last()
                .and_then(|ip| ip.trim().parse().ok())
        {
            return Some(ip);
        }
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
    }
}

fn too_many(retry_after: Duration, what: &str) -> Response {
    let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let error = ApiError::new(
        ErrorKind::RateLimitExceeded,
        format!("too many {what}; retry in {seconds} s"),
    );
    let mut response = ApiErrorResponse::from(error).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Per client address: every API request, and password checks more strictly.
pub async fn limit_per_ip(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") {
        let limiters = &state.rate_limiters;
        let ip = limiters
            .client_ip(&request)
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let checks_passwords = state
            .routes
            .policy(request.method(), path)
            .is_some_and(|policy| policy.rate == RateClass::Credentials);
        if checks_passwords && let Err(wait) = limiters.auth.check(&ip) {
            tracing::warn!(client = %ip, path, "login/registration rate limit reached");
            return too_many(wait, "login attempts");
        }
        if let Err(wait) = limiters.ip.check(&ip) {
            return too_many(wait, "requests");
        }
    }
    next.run(request).await
}

/// Per account, after authentication.
pub async fn limit_per_user(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(principal) = request.extensions().get::<Principal>()
        && request.uri().path().starts_with("/api/")
        && let Err(wait) = state.rate_limiters.user.check(&principal.user_id)
    {
        return too_many(wait, "requests");
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_retry() {
        let limiter = Limiter::new(3);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check("b").is_ok(), "keys are independent");
        assert!(Limiter::new(0).check("a").is_ok(), "0 is off");
    }
}
