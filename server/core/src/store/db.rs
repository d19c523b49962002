//! Opening the database: one binary, the engine chosen by the URL.
//!
//! Embedded engines (`mem://`, `surrealkv://`, `rocksdb://`) are opened by Kiln itself
//! through SurrealDB's datastore builder, because only the builder takes the engine's
//! memory settings (the SDK's `connect` opens them with the engine defaults, which size
//! caches and write buffers from the machine's RAM: a 1 GiB memtable and a block cache
//! of half the RAM on this class of machine). Remote servers go through the SDK.

use std::{
    borrow::Cow,
    future::{Future, IntoFuture},
    path::{Path, PathBuf},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use surrealdb::{
    IndexedResults, Surreal,
    engine::{
        any::{self, Any},
        local::Db as Local,
    },
    method::IntoVariables,
    opt::auth::Root,
    types::Variables,
};
use surrealdb_cnf::ConfigMap;
use surrealdb_core::kvs::Datastore;

use crate::ServiceError;

/// One shared handle. Cloning a client itself opens a new database session (copied
/// from the original asynchronously: a query on a fresh clone can reach a remote server
/// before its sign-in does), so services share this handle instead.
pub type Db = Arc<Database>;

const NAMESPACE: &str = "kiln";
const DATABASE: &str = "kiln";
const MIB: u64 = 1024 * 1024;

/// Where the database lives, how to sign in to a remote one, and how much memory an
/// embedded engine may use.
#[derive(Clone)]
pub struct DbConfig {
    /// `surrealkv://<dir>` (embedded, default), `rocksdb://<dir>`, `mem://`,
    /// `ws://host:port`, ...
    pub url: String,
    /// Root credentials for a remote server (`ws://`, `wss://`).
    pub username: Option<String>,
    pub password: Option<String>,
    /// Memory an embedded engine may hold in its block cache and write buffers, in MiB
    /// (`KILN_DB_MEMORY_MB`). See [`engine_settings`] for how it is divided.
    pub memory_mib: u64,
    /// Engine settings passed through as they are (`SURREAL_SURREALKV_*` and
    /// `SURREAL_ROCKSDB_*` environment variables, lower-cased without the `SURREAL_`
    /// prefix); they win over the ones derived from `memory_mib`.
    pub engine_settings: Vec<(String, String)>,
}

/// Never prints the password.
impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("memory_mib", &self.memory_mib)
            .field("engine_settings", &self.engine_settings)
            .finish()
    }
}

impl DbConfig {
    /// The memory budget when none is configured, in MiB.
    pub const DEFAULT_MEMORY_MIB: u64 = 256;

    /// Whether the engine runs inside this process (`mem://`, `surrealkv://`,
    /// `rocksdb://`): then no other process can use the same database.
    pub fn is_embedded(&self) -> bool {
        ["mem://", "surrealkv://", "rocksdb://"]
            .iter()
            .any(|scheme| self.url.starts_with(scheme))
    }

    pub fn memory() -> Self {
        Self {
            url: "mem://".into(),
            username: None,
            password: None,
            memory_mib: Self::DEFAULT_MEMORY_MIB,
            engine_settings: Vec::new(),
        }
    }
}

/// An embedded engine that keeps its data in a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    SurrealKv,
    RocksDb,
}

impl Engine {
    /// The URL scheme that opens it.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::SurrealKv => "surrealkv",
            Self::RocksDb => "rocksdb",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::SurrealKv => "SurrealKV",
            Self::RocksDb => "RocksDB",
        }
    }

    /// The engine whose files are in `dir`, if any: RocksDB keeps a `CURRENT` file,
    /// SurrealKV a `manifest` directory.
    pub fn on_disk(dir: &Path) -> Option<Self> {
        if dir.join("CURRENT").is_file() {
            Some(Self::RocksDb)
        } else if dir.join("manifest").is_dir() {
            Some(Self::SurrealKv)
        } else {
            None
        }
    }

    /// The engine and directory of an embedded on-disk URL (`rocksdb:///srv/kiln`).
    pub fn of_url(url: &str) -> Option<(Self, PathBuf)> {
        let path = |rest: &str| PathBuf::from(rest.split('?').next().unwrap_or(rest));
        if let Some(rest) = url.strip_prefix("surrealkv://") {
            Some((Self::SurrealKv, path(rest)))
        } else {
            url.strip_prefix("rocksdb://")
                .map(|rest| (Self::RocksDb, path(rest)))
        }
    }
}

/// Refuses to open a directory with the other engine: it would start an empty
/// database next to the real one.
fn check_engine(url: &str) -> Result<(), ServiceError> {
    let Some((wanted, dir)) = Engine::of_url(url) else {
        return Ok(());
    };
    match Engine::on_disk(&dir) {
        Some(found) if found != wanted => Err(ServiceError::Unavailable(format!(
            "{dir} holds a {found} database, not a {wanted} one: open it with \
             DATABASE_URL={scheme}://{dir}, or copy it into a new {wanted} directory with \
             `kiln convert --to {wanted_scheme}://<new directory>`",
            dir = dir.display(),
            found = found.name(),
            wanted = wanted.name(),
            scheme = found.scheme(),
            wanted_scheme = wanted.scheme(),
        ))),
        _ => Ok(()),
    }
}

/// The settings an embedded engine is opened with, as SurrealDB's configuration keys
/// (`surrealdb-kvs-surrealkv` and `surrealdb-kvs-rocksdb` 3.3.5, `cnf.rs`). Of the
/// budget `memory_mib`:
/// - SurrealKV: half is the block cache, a quarter the memtable (at least 32 MiB: a
///   single transaction must fit in it);
/// - RocksDB: half is the block cache, which also carries the memtables' charge
///   (SurrealDB builds its write-buffer manager on that cache), and two write buffers
///   of an eighth each.
///
/// What is left of the budget covers the engine's indexes, filters and iterators.
pub fn engine_settings(config: &DbConfig) -> Vec<(String, String)> {
    let budget = config.memory_mib.max(64) * MIB;
    let mut settings: Vec<(String, String)> = [
        ("surrealkv_block_cache_capacity", budget / 2),
        ("surrealkv_max_memtable_size", (budget / 4).max(32 * MIB)),
        ("rocksdb_block_cache_size", budget / 2),
        ("rocksdb_write_buffer_size", budget / 8),
        ("rocksdb_max_write_buffer_number", 2),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_string()))
    .collect();
    for (key, value) in &config.engine_settings {
        settings.retain(|(known, _)| known != key);
        settings.push((key.clone(), value.clone()));
    }
    settings
}

/// A client of either kind: the SDK's types differ per engine, Kiln's code does not.
#[derive(Clone)]
enum Client {
    Embedded(Surreal<Local>),
    Remote(Surreal<Any>),
}

/// An open database session. Queries read like the SDK's:
/// `db.query(sql).bind(vars).await`.
pub struct Database {
    client: Client,
}

impl Database {
    /// One or more SurrealQL statements, run when awaited.
    pub fn query<'a>(&'a self, sql: impl Into<Cow<'a, str>>) -> Query<'a> {
        Query {
            client: &self.client,
            sql: sql.into(),
            vars: Ok(Variables::new()),
        }
    }
}

impl Database {
    /// Writes the whole database (definitions and records) to `file` as SurrealQL.
    pub async fn export(&self, file: &Path) -> Result<(), ServiceError> {
        match &self.client {
            Client::Embedded(db) => db.export(file).await?,
            Client::Remote(db) => db.export(file).await?,
        }
        Ok(())
    }

    /// Runs a SurrealQL file written by [`Database::export`].
    pub async fn import(&self, file: &Path) -> Result<(), ServiceError> {
        match &self.client {
            Client::Embedded(db) => db.import(file).await?,
            Client::Remote(db) => db.import(file).await?,
        }
        Ok(())
    }
}

/// A query being built; see [`Database::query`].
pub struct Query<'a> {
    client: &'a Client,
    sql: Cow<'a, str>,
    vars: Result<Variables, surrealdb::Error>,
}

impl Query<'_> {
    /// Binds variables: a `(name, value)` pair or a whole [`Variables`] map.
    pub fn bind(mut self, vars: impl IntoVariables) -> Self {
        self.vars = match (self.vars, vars.into_variables()) {
            (Ok(mut all), Ok(more)) => {
                all.extend(more);
                Ok(all)
            }
            (Err(error), _) | (_, Err(error)) => Err(error),
        };
        self
    }
}

impl<'a> IntoFuture for Query<'a> {
    type Output = Result<IndexedResults, surrealdb::Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let vars = self.vars?;
            match self.client {
                Client::Embedded(db) => db.query(self.sql).bind(vars).await,
                Client::Remote(db) => db.query(self.sql).bind(vars).await,
            }
        })
    }
}

/// The engine's own error with its causes (`{:#}` prints an anyhow chain).
fn unavailable(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unavailable(format!("cannot open the database: {error:#}"))
}

/// Opens an embedded engine with Kiln's settings, the way the SDK's own `connect`
/// does (surrealdb-engine-local 3.3.5 `connect`): the version is checked and the
/// datastore bootstrapped before its maintenance tasks start, so a datastore this
/// process creates is stamped before anything writes to it.
pub(super) async fn open_datastore(config: &DbConfig) -> Result<Arc<Datastore>, ServiceError> {
    check_engine(&config.url)?;
    let settings = engine_settings(config)
        .into_iter()
        .fold(ConfigMap::empty(), |map, (key, value)| {
            map.with_key_value(key, value)
        });
    let datastore = Datastore::builder()
        .with_config(settings)
        .without_maintenance_tasks()
        .build_with_path(&config.url)
        .await
        .map_err(unavailable)?;
    datastore.check_version().await.map_err(unavailable)?;
    datastore.bootstrap().await.map_err(unavailable)?;
    datastore.start_maintenance_tasks();
    Ok(datastore)
}

async fn open_embedded(config: &DbConfig) -> Result<Surreal<Local>, ServiceError> {
    let datastore = open_datastore(config).await?;
    // The SDK's one way to serve a datastore it did not open (doc(hidden), pinned =3.3.5).
    Ok(Surreal::<Local>::unstable_from_datastore(datastore, None).await?)
}

/// Opens the database and selects Kiln's namespace. Fails when the engine cannot be
/// opened (locked or unreadable data dir, unreachable server, wrong credentials).
pub async fn connect(config: &DbConfig) -> Result<Db, ServiceError> {
    let client = if config.is_embedded() {
        let db = open_embedded(config).await?;
        db.use_ns(NAMESPACE).use_db(DATABASE).await?;
        Client::Embedded(db)
    } else {
        let db = any::connect(&config.url).await?;
        if let (Some(username), Some(password)) = (&config.username, &config.password) {
            db.signin(Root {
                username: username.clone(),
                password: password.clone(),
            })
            .await?;
        }
        db.use_ns(NAMESPACE).use_db(DATABASE).await?;
        Client::Remote(db)
    };
    Ok(Arc::new(Database { client }))
}

/// A session of its own on the same database, for background work that must not share
/// (or wait on) the requests' session. Ready when this returns.
pub async fn session(db: &Db) -> Result<Db, ServiceError> {
    let client = match &db.client {
        Client::Embedded(db) => {
            let own = Surreal::clone(db);
            own.use_ns(NAMESPACE).use_db(DATABASE).await?;
            Client::Embedded(own)
        }
        Client::Remote(db) => {
            let own = Surreal::clone(db);
            own.use_ns(NAMESPACE).use_db(DATABASE).await?;
            Client::Remote(own)
        }
    };
    Ok(Arc::new(Database { client }))
}

/// Copies every definition and record of `from` into `to`, a database that must not
/// exist yet (`kiln convert`): by SurrealQL export and import, through a file next to
/// the destination that is removed afterwards. Indexes are rebuilt as records arrive.
pub async fn convert(from: &DbConfig, to: &DbConfig) -> Result<(), ServiceError> {
    let Some((_, target)) = Engine::of_url(&to.url) else {
        return Err(ServiceError::BadRequest(format!(
            "{} is not an embedded database directory (surrealkv://, rocksdb://)",
            to.url
        )));
    };
    let occupied = std::fs::read_dir(&target).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        return Err(ServiceError::Conflict(crate::Conflict::AlreadyExists(
            format!(
                "{} is not empty: convert into a new directory",
                target.display()
            ),
        )));
    }
    let source = connect(from).await?;
    let file = PathBuf::from(format!("{}.export.surql", target.display()));
    let copied = async {
        source.export(&file).await?;
        let destination = connect(to).await?;
        destination.import(&file).await
    }
    .await;
    let _ = std::fs::remove_file(&file);
    copied
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

#[cfg(test)]
mod tests {
    use super::*;

    fn setting<'a>(settings: &'a [(String, String)], key: &str) -> Option<&'a str> {
        settings
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn the_memory_budget_sizes_both_engines_and_explicit_settings_win() {
        let mut config = DbConfig::memory();
        let settings = engine_settings(&config);
        assert_eq!(
            setting(&settings, "surrealkv_block_cache_capacity"),
            Some("134217728")
        );
        assert_eq!(
            setting(&settings, "surrealkv_max_memtable_size"),
            Some("67108864")
        );
        assert_eq!(
            setting(&settings, "rocksdb_block_cache_size"),
            Some("134217728")
        );
        assert_eq!(
            setting(&settings, "rocksdb_write_buffer_size"),
            Some("33554432")
        );

        config.memory_mib = 64;
        config.engine_settings = vec![("surrealkv_block_cache_capacity".into(), "1024".into())];
        let settings = engine_settings(&config);
        assert_eq!(
            setting(&settings, "surrealkv_block_cache_capacity"),
            Some("1024")
        );
        assert_eq!(
            settings
                .iter()
                .filter(|(key, _)| key == "surrealkv_block_cache_capacity")
                .count(),
            1
        );
        // A single transaction must still fit in the memtable.
        assert_eq!(
            setting(&settings, "surrealkv_max_memtable_size"),
            Some("33554432")
        );
    }

    #[tokio::test]
    async fn an_embedded_engine_opened_by_kiln_answers_on_every_session() {
        let dir = std::env::temp_dir().join(format!("kiln-db-{}", std::process::id()));
        let config = DbConfig {
            url: format!("surrealkv://{}", dir.display()),
            ..DbConfig::memory()
        };
        let db = connect(&config).await.unwrap();
        db.query("CREATE thing:one SET n = $n")
            .bind(("n", 7))
            .await
            .unwrap()
            .check()
            .unwrap();
        let own = session(&db).await.unwrap();
        let n: Option<i64> = own
            .query("SELECT VALUE n FROM ONLY thing:one")
            .await
            .unwrap()
            .take(0)
            .unwrap();
        assert_eq!(n, Some(7));
        drop((db, own));
        let _ = std::fs::remove_dir_all(dir);
    }
}
