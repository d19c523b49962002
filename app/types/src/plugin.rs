use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A loaded plugin as administrators see it (`GET /api/admin/plugins`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PluginSummary {
    pub id: String,
    /// The world it implements, e.g. `snippet-extractor`.
    pub kind: String,
    /// The WIT package version it was built against.
    pub api_version: String,
    /// `active`, or `quarantined` after repeated failures (Kiln uses its built-in
    /// behaviour meanwhile).
    pub status: String,
    pub calls: u64,
    /// Failed calls by error type (`timeout`, `out_of_fuel`, `crashed`, …).
    pub failures: BTreeMap<String, u64>,
    /// Calls not made because the plugin was in quarantine.
    pub skipped: u64,
    pub fuel_consumed: u64,
    pub busy_ms: u64,
}
