//! One consistent view of the plugins: discovered, loaded, with their settings.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use kiln_plugin_host::{
    API_VERSION, LanguageParserPlugin, LlmPolicyPlugin, Manifest, PluginEngine, PluginError,
    PluginKind, PluginStats, SnippetExtractorPlugin,
};
use kiln_types::PluginSummary;

use super::PluginSettings;

/// Parsers for one path: `(specific, any)`, each best first.
pub type ParserChoice = (
    Vec<Arc<LanguageParserPlugin>>,
    Vec<Arc<LanguageParserPlugin>>,
);

/// Where a plugin came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Bundled,
    Installed,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bundled => "bundled",
            Self::Installed => "installed",
        }
    }
}

#[derive(Clone)]
pub(crate) enum Loaded {
    Parser(Arc<LanguageParserPlugin>),
    Snippets(Arc<SnippetExtractorPlugin>),
    LlmPolicy(Arc<LlmPolicyPlugin>),
}

impl Loaded {
    /// Compiles, links and checks `wasm` as the world its manifest names.
    pub(crate) fn load(
        engine: &PluginEngine,
        manifest: &Manifest,
        wasm: &[u8],
        settings: &PluginSettings,
    ) -> Result<Self, PluginError> {
        let limits = manifest.limits(&settings.ceiling);
        let id = manifest.id.as_str();
        Ok(match manifest.kind {
            PluginKind::LanguageParser => {
                let parser = LanguageParserPlugin::load(engine, id, wasm, limits)?;
                manifest.check_claims(parser.info())?;
                Self::Parser(Arc::new(parser))
            }
            PluginKind::SnippetExtractor => Self::Snippets(Arc::new(SnippetExtractorPlugin::load(
                engine, id, wasm, limits,
            )?)),
            PluginKind::LlmPolicy => {
                Self::LlmPolicy(Arc::new(LlmPolicyPlugin::load(engine, id, wasm, limits)?))
            }
        })
    }

    fn stats(&self) -> PluginStats {
        match self {
            Self::Parser(plugin) => plugin.stats(),
            Self::Snippets(plugin) => plugin.stats(),
            Self::LlmPolicy(plugin) => plugin.stats(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) manifest: Manifest,
    pub(crate) source: Source,
    pub(crate) dir: PathBuf,
    pub(crate) loaded: Loaded,
    pub(crate) enabled: bool,
    pub(crate) priority: i32,
}

/// A plugin directory that could not be loaded, and why.
#[derive(Clone)]
pub(crate) struct Rejected {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Option<Manifest>,
    pub(crate) source: Source,
    pub(crate) error: PluginError,
}

#[derive(Clone, Default)]
pub(crate) struct Catalog {
    pub(crate) entries: Vec<Entry>,
    pub(crate) rejected: Vec<Rejected>,
}

impl Catalog {
    /// Loads every plugin directory under the bundled and the installed directory.
    /// Blocking (compiles components).
    pub(crate) fn discover(engine: &PluginEngine, settings: &PluginSettings) -> Self {
        let mut catalog = Self::default();
        let dirs = [
            (settings.bundled_dir.as_deref(), Source::Bundled),
            (settings.installed_dir.as_deref(), Source::Installed),
        ];
        for (dir, source) in dirs {
            for plugin_dir in dir.map(plugin_dirs).unwrap_or_default() {
                catalog.add(engine, settings, plugin_dir, source);
            }
        }
        catalog
    }

    fn add(
        &mut self,
        engine: &PluginEngine,
        settings: &PluginSettings,
        dir: PathBuf,
        source: Source,
    ) {
        let manifest = match Manifest::read(&dir) {
            Ok(manifest) => manifest,
            Err(error) => {
                self.rejected.push(Rejected {
                    dir,
                    manifest: None,
                    source,
                    error,
                });
                return;
            }
        };
        let loaded = if self.find(&manifest.id).is_some() {
            Err(PluginError::InvalidManifest {
                plugin: manifest.id.clone(),
                reason: "another plugin already uses this id".into(),
            })
        } else {
            manifest
                .read_component(&dir)
                .and_then(|wasm| Loaded::load(engine, &manifest, &wasm, settings))
        };
        match loaded {
            Ok(loaded) => self.entries.push(Entry {
                manifest,
                source,
                dir,
                loaded,
                enabled: true,
                priority: 0,
            }),
            Err(error) => self.rejected.push(Rejected {
                dir,
                manifest: Some(manifest),
                source,
                error,
            }),
        }
    }

    /// Applies administrators' stored choices.
    pub(crate) fn apply(&mut self, settings: &HashMap<String, (bool, i32)>) {
        for entry in &mut self.entries {
            if let Some(&(enabled, priority)) = settings.get(&entry.manifest.id) {
                entry.enabled = enabled;
                entry.priority = priority;
            }
        }
    }

    fn enabled(&self, kind: PluginKind) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |entry| entry.enabled && entry.manifest.kind == kind)
    }

    pub(crate) fn first(&self, kind: PluginKind) -> Option<Loaded> {
        self.enabled(kind)
            .max_by_key(|entry| (entry.priority, std::cmp::Reverse(entry.manifest.id.clone())))
            .map(|entry| entry.loaded.clone())
    }

    /// Language parsers for `path`, best first: `(specific, any)` — those claiming its
    /// file name or extension, and those claiming any file (`*`).
    pub(crate) fn parsers_for(&self, path: &str) -> ParserChoice {
        let name = path.rsplit('/').next().unwrap_or(path);
        let extension = name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase());
        let mut ranked: Vec<(u8, i32, &str, Arc<LanguageParserPlugin>)> = self
            .enabled(PluginKind::LanguageParser)
            .filter_map(|entry| {
                let Loaded::Parser(plugin) = &entry.loaded else {
                    return None;
                };
                let info = plugin.info();
                let claims = |list: &[String], value: &str| list.iter().any(|item| item == value);
                let tier = if claims(&info.filenames, name) {
                    0
                } else if extension
                    .as_deref()
                    .is_some_and(|ext| claims(&info.extensions, ext))
                {
                    1
                } else if claims(&info.extensions, "*") {
                    2
                } else {
                    return None;
                };
                Some((
                    tier,
                    entry.priority,
                    entry.manifest.id.as_str(),
                    plugin.clone(),
                ))
            })
            .collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
        let (specific, any): (Vec<_>, Vec<_>) =
            ranked.into_iter().partition(|(tier, ..)| *tier < 2);
        let plugins = |ranked: Vec<(u8, i32, &str, Arc<LanguageParserPlugin>)>| {
            ranked.into_iter().map(|(_, _, _, plugin)| plugin).collect()
        };
        (plugins(specific), plugins(any))
    }

    pub(crate) fn find(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.manifest.id == id)
    }

    pub(crate) fn summaries(&self) -> Vec<PluginSummary> {
        let loaded = self.entries.iter().map(|entry| {
            let stats = entry.loaded.stats();
            let status = match (entry.enabled, stats.quarantined) {
                (false, _) => "disabled",
                (true, true) => "quarantined",
                (true, false) => "active",
            };
            let mut summary = summary(
                &entry.manifest,
                entry.source,
                status,
                entry.enabled,
                entry.priority,
                &stats,
                None,
            );
            // What a loaded parser said it handles is what selects it.
            if let Loaded::Parser(parser) = &entry.loaded {
                summary.languages = parser.info().languages.clone();
                summary.extensions = parser.info().extensions.clone();
            }
            summary
        });
        let rejected = self.rejected.iter().map(|rejected| {
            let fallback;
            let manifest = match &rejected.manifest {
                Some(manifest) => manifest,
                None => {
                    fallback = placeholder(&rejected.dir);
                    &fallback
                }
            };
            summary(
                manifest,
                rejected.source,
                "rejected",
                false,
                0,
                &PluginStats::default(),
                Some(rejected.error.to_string()),
            )
        });
        loaded.chain(rejected).collect()
    }
}

/// What a rejected directory without a readable manifest is listed as.
fn placeholder(dir: &Path) -> Manifest {
    Manifest {
        id: dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        version: String::new(),
        kind: PluginKind::LanguageParser,
        api: String::new(),
        wasm: String::new(),
        sha256: String::new(),
        description: String::new(),
        limits: Default::default(),
        languages: Vec::new(),
        extensions: Vec::new(),
        filenames: Vec::new(),
    }
}

fn summary(
    manifest: &Manifest,
    source: Source,
    status: &str,
    enabled: bool,
    priority: i32,
    stats: &PluginStats,
    error: Option<String>,
) -> PluginSummary {
    PluginSummary {
        id: manifest.id.clone(),
        version: manifest.version.clone(),
        kind: if manifest.api.is_empty() {
            "unknown"
        } else {
            manifest.kind.as_str()
        }
        .to_owned(),
        api_version: if manifest.api.is_empty() {
            API_VERSION.into()
        } else {
            manifest.api.clone()
        },
        source: source.as_str().to_owned(),
        status: status.to_owned(),
        enabled,
        priority,
        languages: manifest.languages.clone(),
        extensions: manifest.extensions.clone(),
        error,
        calls: stats.calls,
        failures: stats
            .failures
            .iter()
            .map(|(code, count)| ((*code).to_owned(), *count))
            .collect(),
        skipped: stats.skipped,
        fuel_consumed: stats.fuel_consumed,
        busy_ms: u64::try_from(stats.busy.as_millis()).unwrap_or(u64::MAX),
        peak_memory_bytes: stats.peak_memory_bytes,
    }
}

/// Sub-directories of `dir` that hold a manifest, in name order (missing dir: none).
fn plugin_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        // Hidden directories are installs in progress (see `install::write_plugin`).
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'))
        })
        .filter(|path| path.join(kiln_plugin_host::MANIFEST_FILE).is_file())
        .collect();
    dirs.sort();
    dirs
}
