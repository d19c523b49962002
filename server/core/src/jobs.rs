//! Supervised background jobs: one owner for every long-running task, so that
//! shutdown can stop them all and wait for them, and a job that fails (or panics)
//! is restarted with backoff instead of silently disappearing.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::ServiceError;

/// The first pause before restarting a failed job; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A job that ran this long before failing starts its backoff from the beginning.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// A task aborted when this handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Owns the background jobs of one Kiln process.
///
/// Each job is a function from a cancellation token to a future. It should return
/// `Ok(())` promptly once the token is cancelled (select on
/// [`CancellationToken::cancelled`] wherever it waits); an `Err` or a panic is logged
/// and the job is started again after 1, 2, 4 … 60 s.
#[derive(Clone)]
pub struct Supervisor {
    stop: CancellationToken,
    tasks: Arc<Mutex<JoinSet<()>>>,
    first_backoff: Duration,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self {
            stop: CancellationToken::new(),
            tasks: Arc::default(),
            first_backoff: FIRST_BACKOFF,
        }
    }
}

impl Supervisor {
    pub fn new() -> Self {
        Self::default()
    }

    /// The same supervisor with another first restart pause (tests use milliseconds).
    pub fn with_first_backoff(self, first_backoff: Duration) -> Self {
        Self {
            first_backoff,
            ..self
        }
    }

    /// Cancelled when the process is stopping: jobs (and anything else that should
    /// stop with them) wait on it.
    pub fn token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Starts `job` under supervision.
    pub fn spawn<F, Fut>(&self, name: &'static str, job: F)
    where
        F: Fn(CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ServiceError>> + Send + 'static,
    {
        let stop = self.stop.clone();
        let first_backoff = self.first_backoff;
        let supervised = async move {
            let mut backoff = first_backoff;
            loop {
                let started = Instant::now();
                // Its own task, so a panic is caught here instead of ending supervision;
                // aborted with this future, so a job that outlives `shutdown` stops too.
                let mut run = AbortOnDrop(tokio::spawn(job(stop.clone())));
                let failure = match (&mut run.0).await {
                    Ok(Ok(())) => break,
                    Ok(Err(error)) => error.to_string(),
                    Err(error) if error.is_panic() => "the job panicked".to_owned(),
                    Err(error) => error.to_string(),
                };
                if stop.is_cancelled() {
                    tracing::warn!(job = name, cause = %failure, "background job failed while stopping");
                    break;
                }
                if started.elapsed() >= HEALTHY_RUN {
                    backoff = first_backoff;
                }
                tracing::error!(job = name, cause = %failure, retry_in_s = backoff.as_secs(), "background job failed; restarting");
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            tracing::info!(job = name, "background job stopped");
        };
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spawn(supervised);
    }

    /// Cancels every job and waits for them to finish, at most `within`. Returns
    /// whether they all finished in time.
    pub async fn shutdown(&self, within: Duration) -> bool {
        self.stop.cancel();
        let mut tasks =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let all_done = async { while tasks.join_next().await.is_some() {} };
        let finished = tokio::time::timeout(within, all_done).await.is_ok();
        if !finished {
            tracing::warn!(
                within_s = within.as_secs(),
                "background jobs did not stop in time"
            );
        }
        finished
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::sync::mpsc;

    use super::*;

    #[tokio::test]
    async fn a_failing_job_is_restarted_and_shutdown_waits_for_it() {
        let supervisor = Supervisor::new().with_first_backoff(Duration::from_millis(5));
        let runs = Arc::new(AtomicU32::new(0));
        let (started, mut starts) = mpsc::unbounded_channel();
        let counted = runs.clone();
        supervisor.spawn("flaky", move |stop| {
            let run = counted.fetch_add(1, Ordering::SeqCst) + 1;
            let started = started.clone();
            async move {
                let _ = started.send(run);
                if run == 1 {
                    panic!("first run dies");
                }
                if run == 2 {
                    return Err(ServiceError::Internal("second run fails".into()));
                }
                stop.cancelled().await;
                Ok(())
            }
        });
        // Panicked, failed, then runs until told to stop.
        for expected in 1..=3 {
            assert_eq!(starts.recv().await, Some(expected));
        }
        assert!(supervisor.shutdown(Duration::from_secs(5)).await);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_job_that_ignores_cancellation_is_reported() {
        let supervisor = Supervisor::new();
        supervisor.spawn("stubborn", |_stop| async {
            std::future::pending::<()>().await;
            Ok(())
        });
        assert!(!supervisor.shutdown(Duration::from_millis(50)).await);
    }
}
