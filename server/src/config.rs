//! Configuration: defaults, then `kiln.toml` (optional), then environment variables.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use std::time::Duration;

use anyhow::Context;
use kiln_core::{
    ChatSettings,
    auth::{RegistrationPolicy, SigningKey, TokenSigner},
    chat::LlmSettings,
    db::{DbConfig, Engine},
    files::FileSettings,
};
use serde::Deserialize;

use crate::http::{CorsOrigins, HttpSettings, RateLimits, WsSettings};

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
    /// The bundled plugins: one sub-directory with a `kiln-plugin.toml` per plugin
    /// (`KILN_PLUGIN_DIR`, default `plugins/dist`).
    pub plugin_dir: PathBuf,
    /// Where administrators install plugins (`KILN_PLUGINS_DIR`, default
    /// `~/.local/share/kiln/plugins`), discovered like the bundled ones.
    pub installed_plugin_dir: Option<PathBuf>,
    /// Compiled plugins, so a restart does not compile them again (`KILN_PLUGIN_CACHE_DIR`,
    /// default `~/.cache/kiln/plugins`). Must be writable by Kiln alone.
    pub plugin_cache_dir: Option<PathBuf>,
    pub auth: AuthConfig,
    pub http: HttpSettings,
    pub files: FileSettings,
    pub chat: ChatSettings,
}

/// Accounts and sessions.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `KILN_JWT_KEYS`: `kid:secret` pairs, comma-separated.
    pub keys: Vec<SigningKey>,
    /// `KILN_JWT_ACTIVE_KID`: the key that signs; the first key when unset.
    pub active_kid: String,
    /// True when no keys were configured and a random one was made for this process.
    pub ephemeral_key: bool,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub registration: RegistrationPolicy,
}

impl AuthConfig {
    /// Every secret value, so the log filter can redact them.
    pub fn secrets(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().map(|key| key.secret.as_slice())
    }
}

/// Secrets that appear in examples and tutorials: never acceptable in production.
const WELL_KNOWN_SECRETS: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "changeit",
    "password",
    "kiln",
    "development",
    "your-256-bit-secret",
    "replace-me-with-a-long-random-secret",
];

/// A signing key from `kiln.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKey {
    kid: String,
    secret: String,
}

/// `[rate_limit]` in `kiln.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRateLimits {
    ip_per_minute: Option<u32>,
    user_per_minute: Option<u32>,
    auth_per_minute: Option<u32>,
    trust_forwarded_for: Option<bool>,
}

/// `kiln.toml`: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    environment: Option<Environment>,
    database_url: Option<String>,
    database_user: Option<String>,
    database_password: Option<String>,
    database_memory_mb: Option<u64>,
    database_engine_settings: Option<String>,
    site_addr: Option<SocketAddr>,
    plugin_dir: Option<PathBuf>,
    plugins_dir: Option<PathBuf>,
    plugin_cache_dir: Option<PathBuf>,
    jwt_keys: Option<Vec<FileKey>>,
    jwt_active_kid: Option<String>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    registration: Option<String>,
    public_url: Option<String>,
    cors_origins: Option<Vec<String>>,
    json_body_limit: Option<usize>,
    upload_body_limit: Option<usize>,
    upload_file_limit: Option<u64>,
    binary_files: Option<String>,
    #[serde(default)]
    rate_limit: FileRateLimits,
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
        let plugin_cache_dir = env("KILN_PLUGIN_CACHE_DIR")
            .map(PathBuf::from)
            .or(file.plugin_cache_dir.clone())
            .or_else(|| {
                env("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".cache")))
                    .map(|cache| cache.join("kiln/plugins"))
            });
        let auth = auth_config(environment, &file, &env)?;
        let http = http_settings(environment, &file, &env)?;
        let files = file_settings(&http, &file, &env)?;
        let chat = chat_settings(&env)?;
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
        let memory_mib = number(
            &env,
            "KILN_DB_MEMORY_MB",
            file.database_memory_mb,
            DbConfig::DEFAULT_MEMORY_MIB,
        )?;
        if memory_mib < 64 {
            anyhow::bail!("KILN_DB_MEMORY_MB must be at least 64, not {memory_mib}");
        }
        let engine_settings = match env("KILN_DB_ENGINE_SETTINGS").or(file.database_engine_settings)
        {
            Some(list) => parse_engine_settings(&list)?,
            None => Vec::new(),
        };
        let plugin_dir = env("KILN_PLUGIN_DIR")
            .map(PathBuf::from)
            .or(file.plugin_dir.clone())
            .unwrap_or_else(|| PathBuf::from("plugins/dist"));
        let installed_plugin_dir = env("KILN_PLUGINS_DIR")
            .map(PathBuf::from)
            .or(file.plugins_dir.clone())
            .or_else(|| {
                env("XDG_DATA_HOME")
                    .map(PathBuf::from)
                    .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".local/share")))
                    .map(|data| data.join("kiln/plugins"))
            });
        Ok(Self {
            environment,
            database: DbConfig {
                url,
                username,
                password,
                memory_mib,
                engine_settings,
            },
            site_addr,
            plugin_dir,
            installed_plugin_dir,
            plugin_cache_dir,
            auth,
            http,
            files,
            chat,
        })
    }
}

/// The language model and message limits (`KILN_LLM_*`, `LLM_MODEL`,
/// `KILN_MESSAGE_MAX_BYTES`).
fn chat_settings(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<ChatSettings> {
    let defaults = LlmSettings::default();
    let seconds = |key: &str, default: Duration| -> anyhow::Result<Duration> {
        let secs: u64 = number(env, key, None, default.as_secs())?;
        if secs == 0 {
            anyhow::bail!("{key} must be at least 1");
        }
        Ok(Duration::from_secs(secs))
    };
    let base_url = env("KILN_LLM_BASE_URL")
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty());
    if let Some(url) = &base_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        anyhow::bail!("KILN_LLM_BASE_URL must be an http:// or https:// URL, not {url:?}");
    }
    let message_max_bytes = number(
        env,
        "KILN_MESSAGE_MAX_BYTES",
        None,
        kiln_types::MESSAGE_MAX_BYTES,
    )?;
    if message_max_bytes == 0 || message_max_bytes > 1 << 20 {
        anyhow::bail!("KILN_MESSAGE_MAX_BYTES must be between 1 and 1048576");
    }
    let context_tokens = number(
        env,
        "KILN_LLM_CONTEXT_TOKENS",
        None,
        defaults.context_tokens,
    )?;
    if context_tokens < 512 {
        anyhow::bail!("KILN_LLM_CONTEXT_TOKENS must be at least 512");
    }
    Ok(ChatSettings {
        llm: LlmSettings {
            base_url,
            api_key: env("KILN_LLM_API_KEY").filter(|key| !key.is_empty()),
            model: env("LLM_MODEL")
                .map(|model| model.trim().to_owned())
                .filter(|model| !model.is_empty())
                .unwrap_or(defaults.model),
            fallback_models: env("KILN_LLM_FALLBACK_MODELS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|model| !model.is_empty())
                .map(str::to_owned)
                .collect(),
            connect_timeout: seconds("KILN_LLM_CONNECT_TIMEOUT_SECS", defaults.connect_timeout)?,
            first_token_timeout: seconds(
                "KILN_LLM_FIRST_TOKEN_TIMEOUT_SECS",
                defaults.first_token_timeout,
            )?,
            idle_timeout: seconds("KILN_LLM_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
            total_timeout: seconds("KILN_LLM_TOTAL_TIMEOUT_SECS", defaults.total_timeout)?,
            context_tokens,
        },
        message_max_bytes,
    })
}

/// `https://host:port` of a URL (`https://kiln.example.com/app/` → `https://kiln.example.com`).
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// The chat WebSocket's limits (`KILN_WS_*`).
fn ws_settings(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<WsSettings> {
    let defaults = WsSettings::default();
    let settings = WsSettings {
        heartbeat: Duration::from_secs(number(
            env,
            "KILN_WS_HEARTBEAT_SECS",
            None,
            defaults.heartbeat.as_secs(),
        )?),
        missed_pongs: number(env, "KILN_WS_MAX_MISSED_PONGS", None, defaults.missed_pongs)?,
        queue_capacity: number(env, "KILN_WS_QUEUE_CAPACITY", None, defaults.queue_capacity)?,
        commands_per_minute: number(
            env,
            "KILN_WS_COMMANDS_PER_MINUTE",
            None,
            defaults.commands_per_minute,
        )?,
        max_sockets_per_user: number(
            env,
            "KILN_WS_MAX_SOCKETS_PER_USER",
            None,
            defaults.max_sockets_per_user,
        )?,
        max_frame_bytes: number(
            env,
            "KILN_WS_MAX_FRAME_BYTES",
            None,
            defaults.max_frame_bytes,
        )?,
    };
    if settings.heartbeat.is_zero()
        || settings.missed_pongs == 0
        || settings.queue_capacity == 0
        || settings.commands_per_minute == 0
        || settings.max_sockets_per_user == 0
        || settings.max_frame_bytes < 1024
    {
        anyhow::bail!(
            "KILN_WS_* settings must be at least 1 (KILN_WS_MAX_FRAME_BYTES at least 1024)"
        );
    }
    Ok(settings)
}

/// Upload limits and the binary-file policy. The per-request limit is the upload
/// routes' body limit, so an archive cannot expand past what could be sent unpacked.
fn file_settings(
    http: &HttpSettings,
    file: &FileConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<FileSettings> {
    let store_binary = match env("KILN_BINARY_FILES")
        .or(file.binary_files.clone())
        .as_deref()
    {
        None | Some("store") => true,
        Some("refuse") => false,
        Some(other) => anyhow::bail!("KILN_BINARY_FILES must be store or refuse, not {other:?}"),
    };
    let max_file_bytes = number(
        env,
        "KILN_UPLOAD_FILE_LIMIT",
        file.upload_file_limit,
        10 << 20,
    )?;
    let max_request_bytes = u64::try_from(http.upload_body_limit).unwrap_or(u64::MAX);
    if max_file_bytes > max_request_bytes {
        anyhow::bail!("KILN_UPLOAD_FILE_LIMIT must not exceed KILN_UPLOAD_BODY_LIMIT");
    }
    Ok(FileSettings {
        max_file_bytes,
        max_request_bytes,
        store_binary,
    })
}

/// A number from the environment (named `key`) or the file.
fn number<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    key: &str,
    file: Option<T>,
    default: T,
) -> anyhow::Result<T> {
    match env(key) {
        Some(value) => value.trim().parse().map_err(|_| {
            anyhow::anyhow!("{key} must be a non-negative whole number, not {value:?}")
        }),
        None => Ok(file.unwrap_or(default)),
    }
}

fn auth_config(
    environment: Environment,
    file: &FileConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<AuthConfig> {
    let mut keys = match env("KILN_JWT_KEYS") {
        Some(list) => parse_keys(&list)?,
        None => file
            .jwt_keys
            .iter()
            .flatten()
            .map(|key| SigningKey {
                kid: key.kid.clone(),
                secret: key.secret.as_bytes().to_vec(),
            })
            .collect(),
    };
    let production = environment == Environment::Production;
    let well_known = keys.iter().find(|key| {
        let secret = String::from_utf8_lossy(&key.secret).to_lowercase();
        WELL_KNOWN_SECRETS.contains(&secret.trim())
    });
    if let Some(key) = well_known
        && production
    {
        anyhow::bail!(
            "signing key {:?} uses a well-known default secret; set KILN_JWT_KEYS to a long random value",
            key.kid
        );
    }
    let ephemeral_key = keys.is_empty();
    if ephemeral_key {
        if production {
            anyhow::bail!(
                "KILN_JWT_KEYS is not set: production needs its own signing key (for example `KILN_JWT_KEYS=k1:$(openssl rand -hex 32)`)"
            );
        }
        let mut secret = vec![0; 32];
        getrandom::fill(&mut secret).context("no randomness for a signing key")?;
        keys.push(SigningKey {
            kid: "ephemeral".into(),
            secret,
        });
    }
    let active_kid = env("KILN_JWT_ACTIVE_KID")
        .or(file.jwt_active_kid.clone())
        .unwrap_or_else(|| keys[0].kid.clone());
    let registration = env("KILN_REGISTRATION")
        .or(file.registration.clone())
        .map(|value| value.parse::<RegistrationPolicy>())
        .transpose()
        .map_err(|error| anyhow::anyhow!("KILN_REGISTRATION: {error}"))?
        // A public production server must not hand its administrator role to whoever
        // registers first after an upgrade: production closes after the first account
        // unless told otherwise.
        .unwrap_or(if production {
            RegistrationPolicy::FirstUserOnly
        } else {
            RegistrationPolicy::Open
        });
    let access = number(
        env,
        "KILN_ACCESS_TOKEN_TTL_SECS",
        file.access_token_ttl_secs,
        15 * 60,
    )?;
    let refresh = number(
        env,
        "KILN_REFRESH_TOKEN_TTL_SECS",
        file.refresh_token_ttl_secs,
        30 * 24 * 3600,
    )?;
    if access == 0 || refresh < access {
        anyhow::bail!(
            "token lifetimes must be positive, the refresh token's at least the access token's"
        );
    }
    // The same checks the server applies, before anything is opened.
    TokenSigner::new(&keys, &active_kid, Duration::from_secs(access)).context("KILN_JWT_KEYS")?;
    Ok(AuthConfig {
        keys,
        active_kid,
        ephemeral_key,
        access_ttl: Duration::from_secs(access),
        refresh_ttl: Duration::from_secs(refresh),
        registration,
    })
}

/// `kid:secret,kid:secret`; the secret is everything after the first colon.
fn parse_keys(list: &str) -> anyhow::Result<Vec<SigningKey>> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (kid, secret) = entry
                .split_once(':')
                .context("KILN_JWT_KEYS entries are `kid:secret`")?;
            Ok(SigningKey {
                kid: kid.trim().to_owned(),
                secret: secret.as_bytes().to_vec(),
            })
        })
        .collect()
}

fn http_settings(
    environment: Environment,
    file: &FileConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<HttpSettings> {
    let origins: Vec<String> = match env("CORS_ORIGINS") {
        Some(list) => list
            .split(',')
            .map(|origin| origin.trim().to_owned())
            .filter(|origin| !origin.is_empty())
            .collect(),
        None => file.cors_origins.clone().unwrap_or_default(),
    };
    let cors = if origins.iter().any(|origin| origin == "*") {
        // Kiln's sessions are cookies, i.e. credentials: any origin with credentials
        // would let every website act as the user.
        if environment == Environment::Production {
            anyhow::bail!(
                "CORS_ORIGINS=* cannot be combined with credentials (session cookies); list the allowed origins"
            );
        }
        CorsOrigins::AnyWithoutCredentials
    } else if origins.is_empty() {
        CorsOrigins::SameOriginOnly
    } else {
        for origin in &origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/');
            if !ok {
                anyhow::bail!(
                    "CORS_ORIGINS entries are origins like https://app.example.com, not {origin:?}"
                );
            }
        }
        CorsOrigins::List(origins)
    };
    let public_url = env("KILN_PUBLIC_URL").or(file.public_url.clone());
    let limits = &file.rate_limit;
    let trust_forwarded_for = match env("RATE_LIMIT_TRUST_FORWARDED_FOR").as_deref() {
        Some("true" | "1") => true,
        Some("false" | "0") => false,
        Some(other) => {
            anyhow::bail!("RATE_LIMIT_TRUST_FORWARDED_FOR must be true or false, not {other:?}")
        }
        None => limits.trust_forwarded_for.unwrap_or(false),
    };
    Ok(HttpSettings {
        json_body_limit: number(env, "KILN_JSON_BODY_LIMIT", file.json_body_limit, 1 << 20)?,
        upload_body_limit: number(
            env,
            "KILN_UPLOAD_BODY_LIMIT",
            file.upload_body_limit,
            50 << 20,
        )?,
        secure_cookies: public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://")),
        public_origin: public_url.as_deref().and_then(origin_of),
        cors,
        rate_limits: RateLimits {
            ip_per_minute: number(env, "RATE_LIMIT_IP_PER_MINUTE", limits.ip_per_minute, 600)?,
            user_per_minute: number(
                env,
                "RATE_LIMIT_USER_PER_MINUTE",
                limits.user_per_minute,
                1200,
            )?,
            auth_per_minute: number(
                env,
                "RATE_LIMIT_AUTH_PER_MINUTE",
                limits.auth_per_minute,
                10,
            )?,
            trust_forwarded_for,
        },
        ws: ws_settings(env)?,
    })
}

/// `KILN_DB_ENGINE_SETTINGS`: `key=value` pairs separated by commas, each a SurrealDB
/// engine setting (`surrealkv_block_size=16384,rocksdb_max_open_files=256`).
fn parse_engine_settings(list: &str) -> anyhow::Result<Vec<(String, String)>> {
    list.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_lowercase(), value.trim().to_owned()))
            }
            _ => anyhow::bail!("KILN_DB_ENGINE_SETTINGS: {pair:?} is not key=value"),
        })
        .collect()
}

/// The embedded store in `./data`, as an absolute path: RocksDB, or SurrealKV for a
/// directory SurrealKV wrote (the default engine before RocksDB), which keeps working.
fn default_database_url() -> anyhow::Result<String> {
    let dir = std::env::current_dir()
        .context("current directory")?
        .join("data");
    let engine = match Engine::on_disk(&dir) {
        Some(Engine::SurrealKv) => Engine::SurrealKv,
        _ => Engine::RocksDb,
    };
    Ok(format!("{}://{}", engine.scheme(), dir.display()))
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
        assert!(config.database.url.starts_with("rocksdb:///"));
        assert!(config.database.url.ends_with("/data"));
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.environment, Environment::Development);
    }

    #[test]
    fn the_database_memory_budget_and_engine_settings_are_configurable() {
        let config = load(&[], "").unwrap();
        assert_eq!(config.database.memory_mib, 256);
        assert!(config.database.engine_settings.is_empty());

        let config = load(
            &[
                ("KILN_DB_MEMORY_MB", "512"),
                (
                    "KILN_DB_ENGINE_SETTINGS",
                    "SurrealKV_Block_Size=16384, rocksdb_max_open_files=256,",
                ),
            ],
            "",
        )
        .unwrap();
        assert_eq!(config.database.memory_mib, 512);
        assert_eq!(
            config.database.engine_settings,
            [
                ("surrealkv_block_size".to_owned(), "16384".to_owned()),
                ("rocksdb_max_open_files".to_owned(), "256".to_owned()),
            ]
        );

        let file = load(&[], "database_memory_mb = 128").unwrap();
        assert_eq!(file.database.memory_mib, 128);

        let too_small = load(&[("KILN_DB_MEMORY_MB", "16")], "").unwrap_err();
        assert!(too_small.to_string().contains("at least 64"), "{too_small}");
        let not_a_pair = load(&[("KILN_DB_ENGINE_SETTINGS", "block_size")], "").unwrap_err();
        assert!(not_a_pair.to_string().contains("key=value"), "{not_a_pair}");
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
    fn production_refuses_missing_default_or_short_keys_and_any_origin() {
        let prod = ("KILN_ENV", "production");
        let strong = ("KILN_JWT_KEYS", "k1:0123456789abcdef0123456789abcdef");
        assert!(load(&[prod], "").is_err(), "missing key");
        assert!(load(&[prod, ("KILN_JWT_KEYS", "k1:changeme")], "").is_err());
        assert!(load(&[prod, strong, ("CORS_ORIGINS", "*")], "").is_err());
        let config = load(&[prod, strong, ("CORS_ORIGINS", "https://a.example")], "").unwrap();
        assert!(!config.auth.ephemeral_key);
        assert_eq!(config.auth.registration, RegistrationPolicy::FirstUserOnly);
        assert_eq!(config.auth.active_kid, "k1");
        // Development makes up a key, and allows any origin (without credentials).
        let dev = load(&[("CORS_ORIGINS", "*")], "").unwrap();
        assert!(dev.auth.ephemeral_key);
        assert_eq!(dev.http.cors, CorsOrigins::AnyWithoutCredentials);
    }

    #[test]
    fn signing_keys_rotate_by_kid() {
        let config = load(
            &[
                (
                    "KILN_JWT_KEYS",
                    "new:0123456789abcdef0123456789abcdef, old:fedcba9876543210fedcba9876543210:x",
                ),
                ("KILN_JWT_ACTIVE_KID", "new"),
            ],
            "",
        )
        .unwrap();
        let kids: Vec<_> = config.auth.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["new", "old"]);
        assert_eq!(
            config.auth.keys[1].secret,
            b"fedcba9876543210fedcba9876543210:x"
        );
        let file = "jwt_keys = [{ kid = \"f\", secret = \"0123456789abcdef0123456789abcdef\" }]";
        assert_eq!(load(&[], file).unwrap().auth.active_kid, "f");
    }

    #[test]
    fn limits_and_policies_come_from_the_environment() {
        let config = load(
            &[
                ("RATE_LIMIT_AUTH_PER_MINUTE", "3"),
                ("KILN_REGISTRATION", "first-user-only"),
                ("KILN_PUBLIC_URL", "https://kiln.example"),
                ("KILN_JSON_BODY_LIMIT", "2048"),
            ],
            "",
        )
        .unwrap();
        assert_eq!(config.http.rate_limits.auth_per_minute, 3);
        assert_eq!(config.http.rate_limits.ip_per_minute, 600);
        assert_eq!(config.auth.registration, RegistrationPolicy::FirstUserOnly);
        assert!(config.http.secure_cookies);
        assert_eq!(config.http.json_body_limit, 2048);
        assert!(load(&[("RATE_LIMIT_IP_PER_MINUTE", "-1")], "").is_err());
        assert!(load(&[("KILN_REGISTRATION", "sometimes")], "").is_err());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = load(
            &[("KILN_JWT_KEYS", "k1:0123456789abcdef0123456789abcdef")],
            "",
        )
        .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
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
