//! Configuration: defaults, then `kiln.toml` (optional), then environment variables.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use kiln_core::db::DbConfig;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub database: DbConfig,
    /// `LEPTOS_SITE_ADDR`, the cargo-leptos convention.
    pub site_addr: SocketAddr,
    /// Directory holding the bundled plugins' `.wasm` files.
    pub plugin_dir: PathBuf,
}

/// `kiln.toml`: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    environment: Option<Environment>,
    database_url: Option<String>,
    database_user: Option<String>,
    database_password: Option<String>,
    site_addr: Option<SocketAddr>,
    plugin_dir: Option<PathBuf>,
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let file = match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str::<FileConfig>(&text)
                .with_context(|| format!("{}", path.display()))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => FileConfig::default(),
            Err(error) => return Err(error).with_context(|| format!("{}", path.display())),
        };
        Self::from_sources(file, |key| std::env::var(key).ok())
    }

    fn from_sources(
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let environment = match env("KILN_ENV").as_deref() {
            Some("production") => Environment::Production,
            Some("development") => Environment::Development,
            Some(other) => {
                anyhow::bail!("KILN_ENV must be development or production, not {other:?}")
            }
            None => file.environment.unwrap_or(Environment::Development),
        };
        let url = match env("DATABASE_URL").or(file.database_url) {
            Some(url) => url,
            None => default_database_url()?,
        };
        let site_addr = match env("LEPTOS_SITE_ADDR") {
            Some(addr) => addr.parse().context("LEPTOS_SITE_ADDR")?,
            None => file
                .site_addr
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 3000))),
        };
        let username = env("DATABASE_USER").or(file.database_user);
        let password = env("DATABASE_PASSWORD").or(file.database_password);
        if username.is_some() != password.is_some() {
            anyhow::bail!("DATABASE_USER and DATABASE_PASSWORD must be set together");
        }
        Ok(Self {
            environment,
            database: DbConfig {
                url,
                username,
                password,
            },
            site_addr,
            plugin_dir: env("KILN_PLUGIN_DIR")
                .map(PathBuf::from)
                .or(file.plugin_dir)
                .unwrap_or_else(|| PathBuf::from("plugins/dist")),
        })
    }
}

/// The embedded SurrealKV store in `./data`, as an absolute path.
fn default_database_url() -> anyhow::Result<String> {
    let dir = std::env::current_dir()
        .context("current directory")?
        .join("data");
    Ok(format!("surrealkv://{}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)], file: &str) -> anyhow::Result<Config> {
        let file: FileConfig = toml::from_str(file)?;
        Config::from_sources(file, |key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_to_an_embedded_store_in_data() {
        let config = load(&[], "").unwrap();
        assert!(config.database.url.starts_with("surrealkv:///"));
        assert!(config.database.url.ends_with("/data"));
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.environment, Environment::Development);
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "database_url = \"mem://\"\nsite_addr = \"0.0.0.0:8080\"";
        let config = load(&[("LEPTOS_SITE_ADDR", "127.0.0.1:4000")], file).unwrap();
        assert_eq!(config.database.url, "mem://");
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:4000");
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(load(&[], "databse_url = \"mem://\"").is_err());
        assert!(load(&[("KILN_ENV", "staging")], "").is_err());
        assert!(load(&[("LEPTOS_SITE_ADDR", "not an address")], "").is_err());
        assert!(load(&[("DATABASE_USER", "root")], "").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_database_password() {
        let config = load(
            &[("DATABASE_USER", "root"), ("DATABASE_PASSWORD", "hunter2")],
            "",
        )
        .unwrap();
        let debug = format!("{config:?}");
        assert!(
            debug.contains("root") && !debug.contains("hunter2"),
            "{debug}"
        );
    }
}
