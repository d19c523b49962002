//! Password hashing: argon2id with the crate's recommended parameters (19 MiB, t=2, p=1)
//! in every build. Hashing is CPU-bound, so it runs on the blocking pool.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};

use crate::ServiceError;

/// Verified against when an email is unknown, so a failed login takes as long whether
/// or not the account exists.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_now("kiln-dummy-password", [7; 16]).ok());

/// Each hash takes 19 MiB and a core for a few milliseconds: at most one per core runs
/// at a time, so a flood of logins queues instead of exhausting memory.
static HASHING_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    let slot = HASHING_SLOTS
        .acquire()
        .await
        .map_err(|error| ServiceError::Internal(format!("password hashing slots: {error}")))?;
    // The slot travels with the work: a caller that goes away does not free it early.
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|error| ServiceError::Internal(format!("password hashing task: {error}")))
}

fn hash_now(password: &str, salt: [u8; 16]) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub async fn hash(password: String) -> Result<String, ServiceError> {
    let salt = super::random_bytes::<16>()?;
    blocking(move || hash_now(&password, salt))
        .await?
        .map_err(|error| ServiceError::Internal(format!("password hashing: {error}")))
}

/// `Ok(true)` when `password` matches `stored`; a missing hash never matches but costs
/// the same time.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ServiceError> {
    blocking(move || {
        let Some(stored) = stored.or_else(|| DUMMY_HASH.clone()) else {
            return Ok(false);
        };
        let parsed = PasswordHash::new(&stored)
            .map_err(|error| ServiceError::Internal(format!("stored password hash: {error}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = super::hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert!(
            super::verify("correct horse".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !super::verify("wrong horse".into(), Some(stored))
                .await
                .unwrap()
        );
        assert!(!super::verify("anything".into(), None).await.unwrap());
    }
}
