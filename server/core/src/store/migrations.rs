//! Schema migrations: `migrations/NNNN_name.surql`, embedded at build time, applied in
//! order, each inside one transaction together with its `_migration` record.
//!
//! An applied migration whose file has since changed (checksum mismatch), or one the
//! binary does not know, stops the server: the schema would not be what the code expects.

use surrealdb::types::SurrealValue;

use crate::{
    db::Db,
    store::{self, DbError},
};

/// One migration file (and its optional `.down.surql` counterpart).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub up: &'static str,
    pub down: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The migrations compiled into this binary, in order.
pub fn bundled() -> &'static [Migration] {
    BUNDLED
}

/// Brings `db` to what this build expects: the pending bundled migrations, then this
/// build's database functions. Returns the versions applied.
pub async fn prepare(db: &Db) -> Result<Vec<u32>, MigrationError> {
    let applied = Migrator::new(db, bundled()).up().await?;
    store::install_functions(db)
        .await
        .map_err(MigrationError::Functions)?;
    Ok(applied)
}

impl Migration {
    pub fn checksum(&self) -> String {
        kiln_plugin_host::sha256_hex(self.up.as_bytes())
    }
}

/// Where one migration stands in this database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    Applied,
    Pending,
    /// Applied, but the file changed since.
    Modified,
    /// Recorded in the database, unknown to this binary.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: u32,
    pub name: String,
    pub state: MigrationState,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("migration {name} was edited after it was applied (checksum mismatch)")]
    Modified { name: String },
    #[error("the database has migration {name}, which this build of Kiln does not know")]
    Unknown { name: String },
    #[error("migration {name} has no .down.surql file, so it cannot be reverted")]
    Irreversible { name: String },
    #[error("another process holds the migration lock (_lock:migrate)")]
    Locked,
    #[error("migration {name} failed: {source}")]
    Failed {
        name: String,
        source: surrealdb::Error,
    },
    #[error("installing the database functions failed: {0}")]
    Functions(DbError),
    #[error(transparent)]
    Store(DbError),
    #[error(transparent)]
    Database(#[from] surrealdb::Error),
}

#[derive(Debug, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct AppliedRow {
    version: i64,
    name: String,
    checksum: String,
}

/// Applies and reverts `migrations` on `db`.
pub struct Migrator<'a> {
    db: &'a Db,
    migrations: &'a [Migration],
}

impl<'a> Migrator<'a> {
    pub fn new(db: &'a Db, migrations: &'a [Migration]) -> Self {
        Self { db, migrations }
    }

    /// Every known and every recorded migration, in version order.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>, MigrationError> {
        let applied = self.applied().await?;
        let mut status: Vec<MigrationStatus> = self
            .migrations
            .iter()
            .map(|m| {
                let state = match applied.iter().find(|a| a.version == i64::from(m.version)) {
                    None => MigrationState::Pending,
                    Some(a) if a.checksum == m.checksum() => MigrationState::Applied,
                    Some(_) => MigrationState::Modified,
                };
                MigrationStatus {
                    version: m.version,
                    name: m.name.to_owned(),
                    state,
                }
            })
            .collect();
        for row in &applied {
            if !self
                .migrations
                .iter()
                .any(|m| i64::from(m.version) == row.version)
            {
                status.push(MigrationStatus {
                    version: u32::try_from(row.version).unwrap_or(u32::MAX),
                    name: row.name.clone(),
                    state: MigrationState::Unknown,
                });
            }
        }
        status.sort_by_key(|s| s.version);
        Ok(status)
    }

    /// Refuses a database whose applied migrations do not match this binary.
    pub async fn verify(&self) -> Result<(), MigrationError> {
        for s in self.status().await? {
            match s.state {
                MigrationState::Modified => return Err(MigrationError::Modified { name: s.name }),
                MigrationState::Unknown => return Err(MigrationError::Unknown { name: s.name }),
                MigrationState::Applied | MigrationState::Pending => {}
            }
        }
        Ok(())
    }

    /// Applies every pending migration; returns the versions applied.
    pub async fn up(&self) -> Result<Vec<u32>, MigrationError> {
        self.with_lock(async {
            self.verify().await?;
            let applied = self.applied().await?;
            let mut done = Vec::new();
            for m in self.migrations {
                if applied.iter().any(|a| a.version == i64::from(m.version)) {
                    continue;
                }
                let script = format!(
                    "BEGIN TRANSACTION;\n{}\n;\nCREATE _migration CONTENT {{ version: $version, \
                     name: $name, checksum: $checksum, applied_at: time::now() }};\nCOMMIT TRANSACTION;",
                    m.up
                );
                self.run(m, script).await?;
                tracing::info!(migration = m.name, "applied migration");
                done.push(m.version);
            }
            Ok(done)
        })
        .await
    }

    /// Reverts the newest applied migration; returns its version, or `None` when
    /// nothing is applied.
    pub async fn down(&self) -> Result<Option<u32>, MigrationError> {
        self.with_lock(async {
            self.verify().await?;
            let applied = self.applied().await?;
            let Some(last) = applied.iter().max_by_key(|a| a.version) else {
                return Ok(None);
            };
            let Some(m) = self
                .migrations
                .iter()
                .find(|m| i64::from(m.version) == last.version)
            else {
                return Err(MigrationError::Unknown {
                    name: last.name.clone(),
                });
            };
            let down = m.down.ok_or_else(|| MigrationError::Irreversible {
                name: m.name.to_owned(),
            })?;
            let script = format!(
                "BEGIN TRANSACTION;\n{down}\n;\nDELETE _migration WHERE version = $version;\nCOMMIT TRANSACTION;"
            );
            self.run(m, script).await?;
            tracing::info!(migration = m.name, "reverted migration");
            Ok(Some(m.version))
        })
        .await
    }

    async fn run(&self, m: &Migration, script: String) -> Result<(), MigrationError> {
        let failed = |source| MigrationError::Failed {
            name: m.name.to_owned(),
            source,
        };
        self.db
            .query(script)
            .bind(("version", i64::from(m.version)))
            .bind(("name", m.name.to_owned()))
            .bind(("checksum", m.checksum()))
            .await
            .map_err(failed)?
            .check()
            .map_err(failed)?;
        Ok(())
    }

    async fn applied(&self) -> Result<Vec<AppliedRow>, MigrationError> {
        self.db
            .query(
                "DEFINE TABLE IF NOT EXISTS _migration SCHEMAFULL;
                 DEFINE FIELD IF NOT EXISTS version ON _migration TYPE int;
                 DEFINE FIELD IF NOT EXISTS name ON _migration TYPE string;
                 DEFINE FIELD IF NOT EXISTS checksum ON _migration TYPE string;
                 DEFINE FIELD IF NOT EXISTS applied_at ON _migration TYPE datetime;
                 DEFINE INDEX IF NOT EXISTS _migration_version ON _migration FIELDS version UNIQUE;",
            )
            .await?
            .check()?;
        let mut response = self
            .db
            .query("SELECT version, name, checksum FROM _migration ORDER BY version")
            .await?
            .check()?;
        Ok(response.take(0)?)
    }

    /// Runs `work` holding `_lock:migrate`, so two processes never migrate at once.
    /// A lock older than ten minutes is taken to be left behind by a crash.
    async fn with_lock<T>(
        &self,
        work: impl Future<Output = Result<T, MigrationError>>,
    ) -> Result<T, MigrationError> {
        let taken = self
            .db
            .query(
                "DEFINE TABLE IF NOT EXISTS _lock SCHEMALESS;
                 DELETE _lock:migrate WHERE at < time::now() - 10m;
                 CREATE _lock:migrate SET at = time::now();",
            )
            .await?
            .check();
        match taken.map_err(store::classify) {
            Ok(_) => {}
            Err(DbError::RecordExists) => return Err(MigrationError::Locked),
            Err(error) => return Err(MigrationError::Store(error)),
        }
        let result = work.await;
        let released = self.db.query("DELETE _lock:migrate").await;
        if let Err(error) = released.and_then(|r| r.check()) {
            tracing::error!(%error, "could not release the migration lock");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbConfig, connect};

    async fn memory_db() -> Db {
        connect(&DbConfig::memory()).await.unwrap()
    }

    const TABLES: &[Migration] = &[
        Migration {
            version: 1,
            name: "0001_widget",
            up: "DEFINE TABLE widget SCHEMAFULL; DEFINE FIELD size ON widget TYPE int;",
            down: Some("REMOVE TABLE widget;"),
        },
        Migration {
            version: 2,
            name: "0002_broken",
            up: "DEFINE TABLE gadget SCHEMAFULL; THROW 'boom';",
            down: None,
        },
    ];

    async fn tables(db: &Db) -> String {
        let mut r = db.query("INFO FOR DB").await.unwrap().check().unwrap();
        let info: Option<surrealdb::types::Value> = r.take(0).unwrap();
        format!("{info:?}")
    }

    #[tokio::test]
    async fn bundled_migrations_apply_and_revert_cleanly() {
        let db = memory_db().await;
        let migrator = Migrator::new(&db, bundled());
        let applied = migrator.up().await.unwrap();
        assert_eq!(applied.len(), bundled().len());
        assert!(
            migrator.up().await.unwrap().is_empty(),
            "second run applies nothing"
        );
        assert!(tables(&db).await.contains("project"));
        while migrator.down().await.unwrap().is_some() {}
        assert!(!tables(&db).await.contains("project"));
    }

    #[tokio::test]
    async fn a_failing_migration_rolls_back_entirely_and_is_not_recorded() {
        let db = memory_db().await;
        let migrator = Migrator::new(&db, TABLES);
        let err = migrator.up().await.unwrap_err();
        assert!(
            matches!(err, MigrationError::Failed { ref name, .. } if name == "0002_broken"),
            "{err:?}"
        );
        let info = tables(&db).await;
        assert!(info.contains("widget"), "the first migration stays applied");
        assert!(
            !info.contains("gadget"),
            "the failed one left nothing behind"
        );
        let states: Vec<_> = migrator
            .status()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.state)
            .collect();
        assert_eq!(states, [MigrationState::Applied, MigrationState::Pending]);
        assert!(
            !matches!(migrator.up().await, Err(MigrationError::Locked)),
            "lock released"
        );
    }

    #[tokio::test]
    async fn an_edited_migration_is_refused() {
        let db = memory_db().await;
        Migrator::new(&db, &TABLES[..1]).up().await.unwrap();
        let edited = [Migration {
            up: "DEFINE TABLE widget SCHEMAFULL; DEFINE FIELD size ON widget TYPE string;",
            ..TABLES[0]
        }];
        let err = Migrator::new(&db, &edited).verify().await.unwrap_err();
        assert!(matches!(err, MigrationError::Modified { .. }), "{err}");
        let err = Migrator::new(&db, &[]).verify().await.unwrap_err();
        assert!(matches!(err, MigrationError::Unknown { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_held_lock_stops_a_second_migrator() {
        let db = memory_db().await;
        db.query("CREATE _lock:migrate SET at = time::now()")
            .await
            .unwrap()
            .check()
            .unwrap();
        let err = Migrator::new(&db, TABLES).up().await.unwrap_err();
        assert!(matches!(err, MigrationError::Locked));
    }
}
