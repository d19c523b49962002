//! Kiln's default policy for failed LLM calls:
//! - `model_not_found` → the next configured fallback model;
//! - 429 → retry after the provider's `Retry-After` (capped), else back off;
//! - 5xx, timeouts and broken connections → exponential backoff with jitter, a few
//!   times, then the next fallback model;
//! - any other 4xx → give up (the request itself is wrong; repeating it cannot help).
//!
//! Deterministic: the jitter is derived from the failure itself, so the same failure
//! gets the same answer (and the plugin needs no random source).

/// The first retry waits about this long; each further one doubles it.
pub const BASE_DELAY_MS: u64 = 500;
/// No single wait is longer.
pub const MAX_DELAY_MS: u64 = 30_000;
/// Attempts per model before moving on.
pub const MAX_ATTEMPTS: u32 = 4;
/// After this long, stop trying altogether.
pub const GIVE_UP_AFTER_MS: u64 = 120_000;

/// A failed attempt and the answer, as the plugin SDK defines them.
pub use kiln_plugin_sdk::llm_policy::{Decision, Failure};

pub fn decide(failure: &Failure) -> Decision {
    if failure.elapsed_ms >= GIVE_UP_AFTER_MS {
        return Decision::GiveUp;
    }
    let code = failure.error_code.as_deref().unwrap_or_default();
    if code == "model_not_found" || code == "model_not_available" {
        return next_model(failure);
    }
    match failure.http_status {
        429 if failure.attempt < MAX_ATTEMPTS => Decision::Retry {
            after_ms: failure
                .retry_after_ms
                .unwrap_or_else(|| backoff(failure))
                .min(MAX_DELAY_MS),
        },
        0 | 408 | 500..=599 if failure.attempt < MAX_ATTEMPTS => Decision::Retry {
            after_ms: backoff(failure),
        },
        0 | 408 | 429 | 500..=599 => next_model(failure),
        _ => Decision::GiveUp,
    }
}

/// The fallback after the current model, or give up when there is none.
fn next_model(failure: &Failure) -> Decision {
    let position = failure
        .fallback_models
        .iter()
        .position(|model| *model == failure.model);
    let next = match position {
        Some(index) => failure.fallback_models.get(index + 1),
        None => failure.fallback_models.first(),
    };
    match next {
        Some(model) if *model != failure.model => Decision::Fallback {
            model: model.clone(),
        },
        _ => Decision::GiveUp,
    }
}

/// `BASE_DELAY_MS · 2^(attempt-1)`, ±25 % jitter, capped.
fn backoff(failure: &Failure) -> u64 {
    let exponent = failure.attempt.saturating_sub(1).min(16);
    let base = (BASE_DELAY_MS << exponent).min(MAX_DELAY_MS);
    // FNV-1a over the failure's facts: spreads clients that failed together.
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for byte in failure
        .model
        .bytes()
        .chain(failure.attempt.to_le_bytes())
        .chain(failure.elapsed_ms.to_le_bytes())
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let quarter = base / 4;
    let jitter = if quarter == 0 {
        0
    } else {
        hash % (2 * quarter + 1)
    };
    (base - quarter + jitter).min(MAX_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, attempt: u32) -> Failure {
        Failure {
            http_status: status,
            model: "big".into(),
            attempt,
            fallback_models: vec!["big".into(), "medium".into(), "small".into()],
            ..Failure::default()
        }
    }

    #[test]
    fn a_missing_model_moves_to_the_next_fallback() {
        let missing = Failure {
            error_code: Some("model_not_found".into()),
            ..failure(404, 1)
        };
        assert_eq!(
            decide(&missing),
            Decision::Fallback {
                model: "medium".into()
            }
        );
        let last = Failure {
            model: "small".into(),
            ..missing.clone()
        };
        assert_eq!(decide(&last), Decision::GiveUp);
        let unlisted = Failure {
            model: "other".into(),
            ..missing
        };
        assert_eq!(
            decide(&unlisted),
            Decision::Fallback {
                model: "big".into()
            }
        );
    }

    #[test]
    fn rate_limits_wait_as_told_but_never_too_long() {
        let told = Failure {
            retry_after_ms: Some(2_000),
            ..failure(429, 1)
        };
        assert_eq!(decide(&told), Decision::Retry { after_ms: 2_000 });
        let greedy = Failure {
            retry_after_ms: Some(3_600_000),
            ..failure(429, 1)
        };
        assert_eq!(
            decide(&greedy),
            Decision::Retry {
                after_ms: MAX_DELAY_MS
            }
        );
        assert_eq!(
            decide(&failure(429, MAX_ATTEMPTS)),
            Decision::Fallback {
                model: "medium".into()
            }
        );
    }

    #[test]
    fn server_errors_back_off_exponentially_with_bounded_jitter() {
        let mut previous_base = 0;
        for attempt in 1..MAX_ATTEMPTS {
            let Decision::Retry { after_ms } = decide(&failure(503, attempt)) else {
                panic!("attempt {attempt} should retry");
            };
            let base = BASE_DELAY_MS << (attempt - 1);
            assert!(
                after_ms >= base - base / 4 && after_ms <= base + base / 4,
                "{attempt}: {after_ms}"
            );
            assert!(base > previous_base);
            previous_base = base;
        }
        assert_eq!(
            decide(&failure(0, MAX_ATTEMPTS)),
            Decision::Fallback {
                model: "medium".into()
            }
        );
    }

    #[test]
    fn client_errors_and_long_outages_give_up() {
        for status in [400, 401, 403, 422] {
            assert_eq!(decide(&failure(status, 1)), Decision::GiveUp, "{status}");
        }
        let late = Failure {
            elapsed_ms: GIVE_UP_AFTER_MS,
            ..failure(503, 1)
        };
        assert_eq!(decide(&late), Decision::GiveUp);
    }
}
