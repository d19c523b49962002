//! `kiln`: the Kiln server and its administrative commands.

use clap::{Parser, Subcommand};
use kiln_server::{config::Config, import, migrate, plugin, serve, storage, telemetry};

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Kiln: a self-hosted AI workspace for code projects"
)]
struct Cli {
    /// Optional configuration file; environment variables override it.
    #[arg(long, env = "KILN_CONFIG", default_value = "kiln.toml", global = true)]
    config: std::path::PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the API (the default).
    Serve,
    /// Inspect or change the database schema.
    Migrate {
        #[command(subcommand)]
        action: migrate::Action,
    },
    /// Create and check plugins.
    Plugin {
        #[command(subcommand)]
        action: plugin::Action,
    },
    /// What each table and index costs in the embedded database (stop Kiln first:
    /// the engine locks its directory).
    Storage,
    /// Copy the database (DATABASE_URL, Kiln stopped) into a new directory of another
    /// embedded engine, e.g. `kiln convert --to rocksdb:///srv/kiln/data-rocksdb`.
    Convert {
        /// The new database's URL (`rocksdb://<dir>` or `surrealkv://<dir>`).
        #[arg(long)]
        to: String,
    },
    /// Import a local directory (honouring .gitignore) into a project of a running Kiln.
    Import(import::ImportArgs),
}

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    // Authoring tools need no configuration, logging, database or async runtime (and
    // must not run inside one: WASI's blocking stderr would start its own).
    if let Command::Plugin { action } = command {
        return match plugin::run(action) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kiln plugin: {error:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    // A client of a running server: no configuration or database of its own.
    if let Command::Import(args) = command {
        return match import::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kiln import: {error:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("kiln: invalid configuration: {error:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kiln: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    telemetry::init(&config);
    let result = runtime.block_on(async move {
        match command {
            Command::Migrate { action } => migrate::run(&config, action).await,
            Command::Storage => storage::run(&config).await,
            Command::Convert { to } => storage::convert(&config, &to).await,
            _ => serve::run(config).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc's malloc gives threads that contend their own arenas (up to 8 per core), and
/// memory freed into one arena is not reused by another, so under indexing Kiln's
/// resident memory grew with the arenas in use. `KILN_MALLOC_ARENA_MAX` (default 2;
/// 0 keeps glibc's own default) caps them — the same knob as glibc's
/// `MALLOC_ARENA_MAX`, set here so that running the binary directly gets it too.
/// Measured on 100 MB of source (`make bench-scale SIZE_MB=100`): peak 748 → 564 MB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    let max = std::env::var("KILN_MALLOC_ARENA_MAX")
        .ok()
        .and_then(|value| value.trim().parse::<i32>().ok())
        .unwrap_or(2);
    if max > 0 {
        // SAFETY: mallopt only changes a setting of the allocator, and runs first in
        // `main`, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, max);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
