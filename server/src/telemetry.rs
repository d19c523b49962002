//! Logs: human-readable in development, JSON lines in production. Always on stderr, so
//! stdout stays the CLI's output.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{Config, Environment};

pub fn init(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,kiln=debug"));
    let registry = tracing_subscriber::registry().with(filter);
    match config.environment {
        Environment::Production => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            )
            .init(),
        Environment::Development => registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .init(),
    }
}
