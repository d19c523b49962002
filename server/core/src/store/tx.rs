//! Transactions with a named result and retries on conflicts.

use std::time::Duration;

use surrealdb::{
    opt::QueryResult,
    types::{SurrealValue, Variables},
};

use super::{DbError, classify_all};
use crate::db::Db;

/// How many times a transaction runs before a conflict is given up on: enough for a
/// hundred concurrent writers of one row (a project's counters while its threads
/// chat), measured by `make bench-chat`.
const ATTEMPTS: u32 = 12;

/// One SurrealQL transaction. Its body sets `$result` at the top level
/// (`LET $result = …;`) and [`Transaction::run`] returns that value: callers never
/// count statements. A retryable conflict with a concurrent transaction runs the whole
/// body again (up to twelve times, with a jittered backoff from 4 ms to 256 ms), so a body must check its own
/// preconditions (and `THROW` when they no longer hold) rather than trust what the
/// caller read before; a `THROW` or any other failure rolls everything back and is
/// returned classified. Not `Debug`: its variables may hold secrets (password hashes).
/// 4 ms doubling to 256 ms, each wait drawn from its upper half: writers that
/// conflicted together do not all come back together.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 2_u64 << attempt.min(7);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |now| u64::from(now.subsec_nanos()));
    Duration::from_millis(ceiling / 2 + nanos % (ceiling / 2 + 1))
}

#[derive(Clone)]
pub struct Transaction {
    body: String,
    vars: Variables,
}

impl Transaction {
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            vars: Variables::new(),
        }
    }

    /// Binds `$name` to `value` for every attempt.
    pub fn bind(mut self, name: &str, value: impl SurrealValue) -> Self {
        self.vars.insert(name, value);
        self
    }

    /// Runs the transaction and returns `$result` (NONE when the body set none).
    pub async fn run<R>(&self, db: &Db) -> Result<R, DbError>
    where
        R: SurrealValue,
        usize: QueryResult<R>,
    {
        let query = format!(
            "BEGIN TRANSACTION;\n{}\nRETURN $result;\nCOMMIT TRANSACTION;",
            self.body
        );
        let mut attempt = 1;
        loop {
            let mut response = db.query(query.as_str()).bind(self.vars.clone()).await?;
            let error = classify_all(response.take_errors());
            match error {
                None => {
                    // The RETURN is the statement before COMMIT.
                    let index = response.num_statements().saturating_sub(2);
                    return Ok(response.take(index)?);
                }
                Some(DbError::Conflict) if attempt < ATTEMPTS => {
                    tracing::debug!(attempt, "transaction conflicted; running it again");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Some(error) => return Err(error),
            }
        }
    }
}
