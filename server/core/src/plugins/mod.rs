//! The plugin registry: every plugin Kiln knows, where it came from, whether an
//! administrator enabled it, and which one answers for what.
//!
//! Plugins are discovered in two directories — the bundled set shipped with Kiln and
//! the plugins directory administrators install into — one sub-directory per plugin
//! with its `kiln-plugin.toml`. A plugin that cannot be loaded (bad manifest, hash
//! mismatch, wrong API, missing export) is listed as rejected with its reason and
//! never called. Reloading swaps the whole catalog at once, so a request sees either
//! the old set or the new one.

mod catalog;
mod install;

use std::{
    path::PathBuf,
    sync::{Arc, RwLock},
    time::Duration,
};

use kiln_plugin_host::{
    LanguageParserPlugin, LlmPolicyPlugin, PluginEngine, PluginError, PluginKind, PluginLimits,
    SnippetExtractorPlugin,
};
use kiln_types::{PluginPatch, PluginSummary};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{ServiceError, db::Db};
pub use catalog::Source;
use catalog::{Catalog, Loaded};

/// How long a caller waits for a free plugin slot before using built-in behaviour.
const SLOT_WAIT: Duration = Duration::from_secs(5);

/// Where plugins live and what they may use.
#[derive(Debug, Clone, Default)]
pub struct PluginSettings {
    /// Plugins shipped with Kiln (read-only).
    pub bundled_dir: Option<PathBuf>,
    /// Plugins installed by administrators (written by `install`).
    pub installed_dir: Option<PathBuf>,
    /// The most any plugin may use; manifests ask for less.
    pub ceiling: PluginLimits,
}

#[derive(Clone)]
pub struct PluginRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    engine: PluginEngine,
    settings: PluginSettings,
    db: Db,
    catalog: RwLock<Arc<Catalog>>,
    /// One reload, install or delete at a time.
    changes: tokio::sync::Mutex<()>,
    /// Plugin calls burn CPU until their deadline: at most this many run at once, so
    /// a flood of hostile input cannot starve the server's own threads.
    slots: Arc<Semaphore>,
}

impl PluginRegistry {
    /// An empty registry; call [`reload`](Self::reload) to discover plugins.
    pub fn new(engine: PluginEngine, settings: PluginSettings, db: Db) -> Self {
        // Never more calls at once than the plugin engine's instance pool can hold.
        let cores = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(16);
        Self {
            inner: Arc::new(Inner {
                engine,
                settings,
                db,
                catalog: RwLock::new(Arc::default()),
                changes: tokio::sync::Mutex::new(()),
                slots: Arc::new(Semaphore::new(cores)),
            }),
        }
    }

    fn catalog(&self) -> Arc<Catalog> {
        self.inner
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn replace(&self, catalog: Catalog) {
        *self
            .inner
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
    }

    /// Rediscovers both directories and applies the stored settings. Plugins already
    /// compiled come from the on-disk cache, so this is cheap.
    pub async fn reload(&self) -> Result<Vec<PluginSummary>, ServiceError> {
        let _change = self.inner.changes.lock().await;
        let (engine, settings) = (self.inner.engine.clone(), self.inner.settings.clone());
        let mut catalog =
            tokio::task::spawn_blocking(move || Catalog::discover(&engine, &settings))
                .await
                .map_err(|e| ServiceError::Internal(format!("plugin discovery failed: {e}")))?;
        catalog.apply(&crate::store::plugin_settings::all(&self.inner.db).await?);
        for entry in &catalog.entries {
            tracing::info!(
                plugin = entry.manifest.id,
                kind = entry.manifest.kind.as_str(),
                source = entry.source.as_str(),
                enabled = entry.enabled,
                "plugin loaded"
            );
        }
        for rejected in &catalog.rejected {
            tracing::warn!(dir = %rejected.dir.display(), code = rejected.error.code(), error = %rejected.error, "plugin rejected");
        }
        let summaries = catalog.summaries();
        self.replace(catalog);
        Ok(summaries)
    }

    /// Every plugin, loaded or rejected, for administrators.
    pub fn list(&self) -> Vec<PluginSummary> {
        self.catalog().summaries()
    }

    pub fn get(&self, id: &str) -> Result<PluginSummary, ServiceError> {
        self.catalog()
            .summaries()
            .into_iter()
            .find(|summary| summary.id == id)
            .ok_or_else(|| ServiceError::not_found("plugin", format!("no plugin {id}")))
    }

    /// Enables, disables or re-prioritises a plugin; remembered across restarts.
    pub async fn update(
        &self,
        id: &str,
        patch: PluginPatch,
    ) -> Result<PluginSummary, ServiceError> {
        let _change = self.inner.changes.lock().await;
        let mut catalog = (*self.catalog()).clone();
        let entry = catalog
            .entries
            .iter_mut()
            .find(|entry| entry.manifest.id == id)
            .ok_or_else(|| ServiceError::not_found("plugin", format!("no loaded plugin {id}")))?;
        if let Some(priority) = patch.priority
            && !(-1000..=1000).contains(&priority)
        {
            return Err(kiln_types::ApiError::new(
                kiln_types::ErrorKind::ValidationError,
                "priority must be between -1000 and 1000",
            )
            .into());
        }
        entry.enabled = patch.enabled.unwrap_or(entry.enabled);
        entry.priority = patch.priority.unwrap_or(entry.priority);
        crate::store::plugin_settings::save(&self.inner.db, id, entry.enabled, entry.priority)
            .await?;
        tracing::info!(
            plugin = id,
            enabled = entry.enabled,
            priority = entry.priority,
            "plugin settings changed"
        );
        self.replace(catalog);
        self.get(id)
    }

    /// Language parsers for `path`: `(specific, any)` — those claiming its exact file
    /// name, then its extension; and those claiming any file — by priority within each
    /// group. Disabled plugins are left out; quarantined ones refuse calls by
    /// themselves.
    pub fn parsers_for(&self, path: &str) -> catalog::ParserChoice {
        self.catalog().parsers_for(path)
    }

    /// The enabled snippet extractor with the highest priority.
    pub fn snippet_extractor(&self) -> Option<Arc<SnippetExtractorPlugin>> {
        self.catalog()
            .first(PluginKind::SnippetExtractor)
            .and_then(|loaded| match loaded {
                Loaded::Snippets(plugin) => Some(plugin),
                _ => None,
            })
    }

    /// The enabled LLM policy with the highest priority.
    pub fn llm_policy(&self) -> Option<Arc<LlmPolicyPlugin>> {
        self.catalog()
            .first(PluginKind::LlmPolicy)
            .and_then(|loaded| match loaded {
                Loaded::LlmPolicy(plugin) => Some(plugin),
                _ => None,
            })
    }

    /// A slot to run one plugin call in, or `None` when all stayed busy for a while
    /// (the caller then uses its built-in behaviour).
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(SLOT_WAIT, self.inner.slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// A loaded plugin, as [`PluginRegistry::call_with_fallback`] names it in the log.
pub trait NamedPlugin: Send + Sync + 'static {
    fn plugin_id(&self) -> &str;
}

impl NamedPlugin for LanguageParserPlugin {
    fn plugin_id(&self) -> &str {
        self.id()
    }
}

impl NamedPlugin for SnippetExtractorPlugin {
    fn plugin_id(&self) -> &str {
        self.id()
    }
}

impl NamedPlugin for LlmPolicyPlugin {
    fn plugin_id(&self) -> &str {
        self.id()
    }
}

impl PluginRegistry {
    /// Asks `plugins` in order about `subject` (a path, for the log; never content) — on
    /// a blocking thread, holding one plugin slot — until
    /// one answers, and falls back to `built_in` when none does (none given, all
    /// failed or quarantined, or every slot stayed busy). A failing plugin is logged
    /// here and counted by the plugin host; its failure reaches the caller only as
    /// `built_in`'s argument (each plugin's error, in order; empty when none was
    /// called), unless `passes_through` says it is the caller's own to return.
    pub async fn call_with_fallback<P, T>(
        &self,
        what: &'static str,
        subject: String,
        plugins: Vec<Arc<P>>,
        call: impl Fn(&P) -> Result<T, PluginError> + Send + 'static,
        passes_through: fn(&PluginError) -> bool,
        built_in: impl FnOnce(Vec<PluginError>) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError>
    where
        P: NamedPlugin + ?Sized,
        T: Send + 'static,
    {
        let slot = if plugins.is_empty() {
            None
        } else {
            let slot = self.slot().await;
            if slot.is_none() {
                tracing::warn!(what, "all plugin slots stayed busy; using the built-in one");
            }
            slot
        };
        // Plugin calls block a thread for up to their deadline: keep them off the
        // async workers.
        tokio::task::spawn_blocking(move || {
            let mut failures = Vec::new();
            if let Some(_slot) = slot {
                for plugin in &plugins {
                    match call(plugin) {
                        Ok(answer) => return Ok(answer),
                        Err(error) if passes_through(&error) => {
                            return Err(ServiceError::Plugin(error));
                        }
                        // An input the plugin refuses (a syntax error) is that input's
                        // outcome, not a plugin in trouble: noted, not warned about.
                        Err(error @ PluginError::Reported { .. }) => {
                            tracing::info!(what, %subject, plugin = plugin.plugin_id(), %error, "plugin refused the input; trying the next one");
                            failures.push(error);
                        }
                        Err(error) => {
                            let stderr_tail = match &error {
                                PluginError::Crashed { stderr_tail, .. } => stderr_tail.as_str(),
                                _ => "",
                            };
                            tracing::warn!(what, %subject, plugin = plugin.plugin_id(), code = error.code(), %error, stderr_tail, "plugin failed; trying the next one");
                            failures.push(error);
                        }
                    }
                }
            }
            built_in(failures)
        })
        .await
        .map_err(|error| ServiceError::Internal(format!("{what} task failed: {error}")))?
    }
}

/// Loaded plugins are not `Debug`; say what the registry holds instead.
impl std::fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let catalog = self.catalog();
        f.debug_struct("PluginRegistry")
            .field("plugins", &catalog.entries.len())
            .field("rejected", &catalog.rejected.len())
            .finish()
    }
}
