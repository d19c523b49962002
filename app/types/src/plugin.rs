use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A loaded plugin as administrators see it (`GET /api/admin/plugins`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PluginSummary {
    pub id: String,
    /// The plugin's own version, from its manifest.
    pub version: String,
    /// The world it implements: `language-parser`, `snippet-extractor` or `llm-policy`.
    pub kind: String,
    /// The WIT package version it was built against.
    pub api_version: String,
    /// `bundled` with Kiln, or `installed` into the plugins directory.
    pub source: String,
    /// `active`, `disabled` by an administrator, or `quarantined` after repeated
    /// failures (Kiln uses its built-in behaviour meanwhile).
    pub status: String,
    pub enabled: bool,
    /// Among parsers claiming the same file, the higher priority is asked first.
    pub priority: i32,
    /// Languages and file extensions a parser claims.
    pub languages: Vec<String>,
    pub extensions: Vec<String>,
    /// Why a `rejected` plugin could not be loaded.
    pub error: Option<String>,
    pub calls: u64,
    /// Failed calls by error type (`timeout`, `out_of_fuel`, `crashed`, …).
    pub failures: BTreeMap<String, u64>,
    /// Calls not made because the plugin was in quarantine.
    pub skipped: u64,
    pub fuel_consumed: u64,
    pub busy_ms: u64,
    /// The most linear memory one call grew to.
    pub peak_memory_bytes: u64,
}

/// What an administrator may change on a plugin (`PATCH /api/admin/plugins/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PluginPatch {
    pub enabled: Option<bool>,
    pub priority: Option<i32>,
}
