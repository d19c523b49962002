//! `kiln storage` (what each table and index costs in the embedded database) and
//! `kiln convert` (the same database in another engine).

use kiln_core::db::{self, DbConfig};

use crate::config::Config;

/// Copies the configured database (`DATABASE_URL`) into a new directory of `to`.
pub async fn convert(config: &Config, to: &str) -> anyhow::Result<()> {
    let destination = DbConfig {
        url: to.to_owned(),
        username: None,
        password: None,
        ..config.database.clone()
    };
    db::convert(&config.database, &destination).await?;
    // The CLI's output is its interface: stdout, not the log.
    println!(
        "copied {} into {to}; start Kiln with DATABASE_URL={to}",
        config.database.url
    );
    Ok(())
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    if !config.database.is_embedded() {
        anyhow::bail!("kiln storage reads an embedded database (surrealkv://, rocksdb://)");
    }
    let usage = kiln_core::usage::storage_usage(&config.database).await?;
    let total: u64 = usage.iter().map(|kind| kind.bytes).sum();
    // The CLI's output is its interface: stdout, not the log.
    println!("{:>12} {:>10} {:>6}  kind", "bytes", "keys", "share");
    for kind in &usage {
        let share = 100.0 * kind.bytes as f64 / total.max(1) as f64;
        println!(
            "{:>12} {:>10} {:>5.1}%  {}",
            kind.bytes, kind.keys, share, kind.kind
        );
    }
    println!(
        "{total:>12} {:>10}         keys and values before compression",
        ""
    );
    Ok(())
}
