//! Failure isolation and accounting for one plugin: every call is counted (calls,
//! failures by type, fuel, time), and a plugin that keeps failing is quarantined —
//! not called at all for a while — so its callers fall back to built-in behaviour
//! instead of paying its timeout again and again.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::PluginError;

/// When a plugin is taken out of service, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuarantinePolicy {
    /// Consecutive failed calls that put the plugin in quarantine.
    pub after_failures: u32,
    /// How long it stays there; the first call afterwards is a trial.
    pub duration: Duration,
}

impl Default for QuarantinePolicy {
    fn default() -> Self {
        Self {
            after_failures: 3,
            duration: Duration::from_secs(60),
        }
    }
}

/// A snapshot of a plugin's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginStats {
    pub calls: u64,
    pub failures: BTreeMap<&'static str, u64>,
    /// Calls refused because the plugin was in quarantine.
    pub skipped: u64,
    pub fuel_consumed: u64,
    pub busy: Duration,
    /// The most linear memory any call grew to, in bytes.
    pub peak_memory_bytes: u64,
    pub quarantined: bool,
}

/// What one call consumed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage {
    pub(crate) fuel: u64,
    pub(crate) elapsed: Duration,
    pub(crate) peak_memory_bytes: u64,
}

#[derive(Default)]
pub(crate) struct PluginHealth {
    policy: QuarantinePolicy,
    calls: AtomicU64,
    skipped: AtomicU64,
    fuel_consumed: AtomicU64,
    busy_micros: AtomicU64,
    peak_memory_bytes: AtomicU64,
    consecutive_failures: AtomicU32,
    failures: Mutex<BTreeMap<&'static str, u64>>,
    quarantined_until: Mutex<Option<Instant>>,
}

impl PluginHealth {
    pub(crate) fn new(policy: QuarantinePolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// `Err(Quarantined)` while the plugin is out of service.
    pub(crate) fn admit(&self, plugin: &str) -> Result<(), PluginError> {
        let until = *self
            .quarantined_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match until {
            Some(until) if Instant::now() < until => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
                Err(PluginError::Quarantined {
                    plugin: plugin.to_owned(),
                    retry_in_ms: u64::try_from(until.duration_since(Instant::now()).as_millis())
                        .unwrap_or(u64::MAX),
                })
            }
            _ => Ok(()),
        }
    }

    /// Accounts one call. Only an unhealthy plugin (a trap, a timeout, its memory or
    /// fuel exhausted, output that breaks the contract) moves it towards quarantine:
    /// an input it cannot read (`Reported`, e.g. a syntax error) or one too large for
    /// it is that input's outcome, counted under its code but not against the plugin.
    pub(crate) fn record<T>(&self, plugin: &str, outcome: &Result<T, PluginError>, usage: Usage) {
        let Usage {
            fuel,
            elapsed,
            peak_memory_bytes,
        } = usage;
        self.peak_memory_bytes
            .fetch_max(peak_memory_bytes, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.fuel_consumed.fetch_add(fuel, Ordering::Relaxed);
        self.busy_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if let Err(error) = outcome {
            *self
                .failures
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(error.code())
                .or_default() += 1;
        }
        match outcome {
            Ok(_) | Err(PluginError::InputTooLarge { .. } | PluginError::Reported { .. }) => {
                self.consecutive_failures.store(0, Ordering::Relaxed);
                *self
                    .quarantined_until
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = None;
            }
            Err(_) => {
                let streak = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
                if streak >= self.policy.after_failures {
                    *self
                        .quarantined_until
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) =
                        Some(Instant::now() + self.policy.duration);
                    tracing::warn!(
                        plugin,
                        failures = streak,
                        seconds = self.policy.duration.as_secs(),
                        "plugin quarantined"
                    );
                }
            }
        }
    }

    pub(crate) fn stats(&self) -> PluginStats {
        let quarantined = self
            .quarantined_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until);
        PluginStats {
            calls: self.calls.load(Ordering::Relaxed),
            failures: self
                .failures
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            skipped: self.skipped.load(Ordering::Relaxed),
            fuel_consumed: self.fuel_consumed.load(Ordering::Relaxed),
            busy: Duration::from_micros(self.busy_micros.load(Ordering::Relaxed)),
            peak_memory_bytes: self.peak_memory_bytes.load(Ordering::Relaxed),
            quarantined,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crash() -> Result<(), PluginError> {
        Err(PluginError::Crashed {
            plugin: "p".into(),
            reason: "boom".into(),
            stderr_tail: String::new(),
        })
    }

    #[test]
    fn repeated_failures_quarantine_and_a_success_restores() {
        let health = PluginHealth::new(QuarantinePolicy {
            after_failures: 2,
            duration: Duration::from_secs(60),
        });
        health.record(
            "p",
            &crash(),
            Usage {
                fuel: 10,
                elapsed: Duration::from_millis(1),
                peak_memory_bytes: 0,
            },
        );
        assert!(health.admit("p").is_ok(), "one failure is not a pattern");
        health.record(
            "p",
            &crash(),
            Usage {
                fuel: 10,
                elapsed: Duration::from_millis(1),
                peak_memory_bytes: 0,
            },
        );
        assert!(matches!(
            health.admit("p"),
            Err(PluginError::Quarantined { .. })
        ));
        let stats = health.stats();
        assert!(stats.quarantined);
        assert_eq!(
            (stats.calls, stats.skipped, stats.fuel_consumed),
            (2, 1, 20)
        );
        assert_eq!(stats.failures.get("crashed"), Some(&2));
        health.record(
            "p",
            &Ok(()),
            Usage {
                fuel: 1,
                elapsed: Duration::ZERO,
                peak_memory_bytes: 0,
            },
        );
        assert!(health.admit("p").is_ok());
    }

    #[test]
    fn quarantine_ends_by_itself() {
        let health = PluginHealth::new(QuarantinePolicy {
            after_failures: 1,
            duration: Duration::ZERO,
        });
        health.record(
            "p",
            &crash(),
            Usage {
                fuel: 0,
                elapsed: Duration::ZERO,
                peak_memory_bytes: 0,
            },
        );
        assert!(
            health.admit("p").is_ok(),
            "a zero-length quarantine is over at once"
        );
    }

    #[test]
    fn inputs_a_plugin_cannot_read_never_quarantine_it() {
        let health = PluginHealth::new(QuarantinePolicy {
            after_failures: 2,
            duration: Duration::from_secs(60),
        });
        let refused: Result<(), PluginError> = Err(PluginError::Reported {
            plugin: "p".into(),
            message: "line 1: unexpected token".into(),
        });
        for _ in 0..5 {
            health.record("p", &refused, Usage::default());
        }
        assert!(
            health.admit("p").is_ok(),
            "a syntax error is the file's outcome"
        );
        assert_eq!(health.stats().failures.get("reported_error"), Some(&5));
        // Nor do they hide a real streak: crashes around them still count.
        health.record("p", &crash(), Usage::default());
        health.record("p", &crash(), Usage::default());
        assert!(health.stats().quarantined);
    }
}
