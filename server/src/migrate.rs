//! `kiln migrate status|up|down`.

use clap::Subcommand;
use kiln_core::migrations::{MigrationState, Migrator, bundled};

use crate::config::Config;

#[derive(Subcommand)]
pub enum Action {
    /// List migrations and whether each is applied.
    Status,
    /// Apply every pending migration.
    Up,
    /// Revert the newest applied migration.
    Down,
}

pub async fn run(config: &Config, action: Action) -> anyhow::Result<()> {
    let db = kiln_core::db::connect(&config.database).await?;
    let migrator = Migrator::new(&db, bundled());
    match action {
        Action::Status => {
            for status in migrator.status().await? {
                let state = match status.state {
                    MigrationState::Applied => "applied",
                    MigrationState::Pending => "pending",
                    MigrationState::Modified => "MODIFIED since applied",
                    MigrationState::Unknown => "UNKNOWN to this build",
                };
                // The CLI's output is its interface: stdout, not the log.
                println!("{:04}  {:<40} {state}", status.version, status.name);
            }
        }
        Action::Up => {
            let applied = kiln_core::migrations::prepare(&db).await?;
            println!("applied {} migration(s)", applied.len());
        }
        Action::Down => match migrator.down().await? {
            Some(version) => println!("reverted migration {version:04}"),
            None => println!("nothing to revert"),
        },
    }
    Ok(())
}
