//! The Kiln plugin host: runs third-party WebAssembly components in a sandbox.
//!
//! Every call gets a fresh `Store` from a cached `InstancePre` with a fuel budget, an
//! epoch deadline (wall clock), memory and table limits, an empty WASI context (no
//! files, network or environment) and a bounded stderr capture. A trap never escapes as
//! a panic: it becomes a typed [`PluginError`], and the instance it poisoned is dropped.

mod cache;
mod engine;
mod error;
mod health;
mod llm_policy;
mod manifest;
mod parser;
mod sandbox;
mod snippets;
mod wit;

pub use cache::Origin;
pub use engine::PluginEngine;

/// The WIT package version this host implements (`kiln:plugin@…`).
pub const API_VERSION: &str = "0.1.0";
pub use error::PluginError;
pub use health::{PluginStats, QuarantinePolicy};
pub use kiln_llm_policy_rules::{Decision as LlmDecision, Failure as LlmFailure};
pub use llm_policy::LlmPolicyPlugin;
pub use manifest::{MANIFEST_FILE, Manifest, PluginKind, RequestedLimits, sha256_hex};
pub use parser::{LanguageParserPlugin, check as check_parsed, span_of};
pub use sandbox::PluginLimits;
pub use snippets::SnippetExtractorPlugin;
