//! The Kiln server: configuration, the HTTP transport and the CLI commands, wired to
//! the service layer in `kiln-core`.

pub mod config;
pub mod http;
pub mod import;
pub mod migrate;
pub mod plugin;
pub mod serve;
pub mod storage;
pub mod telemetry;
