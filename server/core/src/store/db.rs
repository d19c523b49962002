//! Opening the database: one binary, the engine chosen by the URL.

use std::{sync::Arc, time::Duration};

use surrealdb::{
    Surreal,
    engine::any::{self, Any},
    opt::auth::Root,
};

use crate::ServiceError;

/// One shared handle. Cloning a `Surreal` itself opens a new database session (copied
/// from the original asynchronously: a query on a fresh clone can reach a remote server
/// before its sign-in does), so services share this handle instead.
pub type Db = Arc<Surreal<Any>>;

const NAMESPACE: &str = "kiln";
const DATABASE: &str = "kiln";

/// Where the database lives and how to sign in to a remote one.
#[derive(Clone)]
pub struct DbConfig {
    /// `surrealkv://<dir>` (embedded, default), `mem://`, `ws://host:port`, ...
    pub url: String,
    /// Root credentials for a remote server (`ws://`, `wss://`).
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Never prints the password.
impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl DbConfig {
    /// Whether the engine runs inside this process (`mem://`, `surrealkv://`,
    /// `rocksdb://`): then no other process can use the same database.
    pub fn is_embedded(&self) -> bool {
        [
            "mem://",
            "surrealkv://",
            "surrealkv+versioned://",
            "rocksdb://",
        ]
        .iter()
        .any(|scheme| self.url.starts_with(scheme))
    }

    pub fn memory() -> Self {
        Self {
            url: "mem://".into(),
            username: None,
            password: None,
        }
    }
}

/// Opens the database and selects Kiln's namespace. Fails when the engine cannot be
/// opened (locked or unreadable data dir, unreachable server, wrong credentials).
pub async fn connect(config: &DbConfig) -> Result<Db, ServiceError> {
    let db = any::connect(&config.url).await?;
    if let (Some(username), Some(password)) = (&config.username, &config.password) {
        db.signin(Root {
            username: username.clone(),
            password: password.clone(),
        })
        .await?;
    }
    db.use_ns(NAMESPACE).use_db(DATABASE).await?;
    Ok(Arc::new(db))
}

/// A session of its own on the same database, for background work that must not share
/// (or wait on) the requests' session. Ready when this returns.
pub async fn session(db: &Db) -> Result<Db, ServiceError> {
    let own = Surreal::clone(db);
    own.use_ns(NAMESPACE).use_db(DATABASE).await?;
    Ok(Arc::new(own))
}

/// A round trip through the query engine, bounded so a hung server cannot hang readiness.
pub async fn ping(db: &Db) -> Result<(), ServiceError> {
    let query = async {
        db.query("RETURN true").await?.check()?;
        Ok::<_, ServiceError>(())
    };
    tokio::time::timeout(Duration::from_secs(2), query)
        .await
        .map_err(|_| ServiceError::Unavailable("database did not answer within 2 s".into()))?
}
