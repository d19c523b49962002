//! `kiln-plugin.toml`: what a plugin is, which file holds it, what it may use.
//!
//! A manifest is checked before the component is even compiled: a wrong API version,
//! a missing file or a hash mismatch (a corrupt or swapped `.wasm`) is refused at load
//! with the reason, never discovered at call time.

use std::{path::Path, time::Duration};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{API_VERSION, PluginError, PluginLimits};

/// File name of a plugin's manifest inside its directory.
pub const MANIFEST_FILE: &str = "kiln-plugin.toml";

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    LanguageParser,
    SnippetExtractor,
    LlmPolicy,
}

impl PluginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LanguageParser => "language-parser",
            Self::SnippetExtractor => "snippet-extractor",
            Self::LlmPolicy => "llm-policy",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::LanguageParser,
            Self::SnippetExtractor,
            Self::LlmPolicy,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// Limits a plugin asks for; the host clamps them to its policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedLimits {
    pub fuel: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub memory_mb: Option<u64>,
}

/// A parsed, validated `kiln-plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Unique id: lower-case letters, digits, `.`, `-`, `_` (`acme.parser.toml`).
    pub id: String,
    pub version: String,
    pub kind: PluginKind,
    /// The `kiln:plugin` package version it was built against.
    pub api: String,
    /// The component's file name, next to the manifest.
    pub wasm: String,
    /// SHA-256 of the component, hex.
    pub sha256: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub limits: RequestedLimits,
    /// Languages and extensions a parser claims, shown before it loads; once loaded,
    /// what its `info()` reports decides which files it is given.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub extensions: Vec<String>,
    #[serde(default)]
    pub filenames: Vec<String>,
}

impl Manifest {
    /// Parses and checks a manifest's text.
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        let manifest: Self = toml::from_str(text).map_err(|e| invalid("?", e.message()))?;
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> Result<(), PluginError> {
        let id = self.id.as_str();
        let valid_id = (3..=64).contains(&id.len())
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        // `/api/admin/plugins/reload` is a route of its own.
        if !valid_id || id == "reload" {
            return Err(invalid(
                id,
                "id must be 3–64 characters: a lower-case letter, then lower-case letters, digits, '.', '-' or '_'",
            ));
        }
        if !is_version(&self.version) {
            return Err(invalid(id, "version must look like 1.2.3"));
        }
        if self.api != API_VERSION {
            return Err(PluginError::IncompatibleApi {
                plugin: id.to_owned(),
                reason: format!(
                    "built for kiln:plugin@{}, this Kiln supports kiln:plugin@{API_VERSION}",
                    self.api
                ),
            });
        }
        let plain_file = !self.wasm.is_empty()
            && self.wasm.ends_with(".wasm")
            && !self.wasm.contains(['/', '\\', '\0'])
            && !self.wasm.starts_with('.');
        if !plain_file {
            return Err(invalid(
                id,
                "wasm must be a file name ending in .wasm, next to the manifest",
            ));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(id, "sha256 must be 64 hex digits"));
        }
        let claims = self
            .languages
            .iter()
            .chain(&self.extensions)
            .chain(&self.filenames);
        if claims.clone().count() > 256
            || claims
                .clone()
                .any(|claim| claim.is_empty() || claim.len() > 64)
        {
            return Err(invalid(
                id,
                "languages, extensions and filenames: at most 256 names of 1–64 characters",
            ));
        }
        if self.kind == PluginKind::LanguageParser
            && self.extensions.is_empty()
            && self.filenames.is_empty()
        {
            return Err(invalid(
                id,
                "a language parser must claim extensions or filenames",
            ));
        }
        Ok(())
    }

    /// Checks that a loaded parser claims only files its manifest — what an
    /// administrator approved — lists (`*` in the manifest allows any file).
    pub fn check_claims(
        &self,
        info: &kiln_plugin_sdk::parser::ParserInfo,
    ) -> Result<(), PluginError> {
        if self.extensions.iter().any(|ext| ext == "*") {
            return Ok(());
        }
        let unlisted: Vec<&str> = info
            .extensions
            .iter()
            .filter(|ext| !self.extensions.contains(ext))
            .chain(
                info.filenames
                    .iter()
                    .filter(|name| !self.filenames.contains(name)),
            )
            .map(String::as_str)
            .collect();
        if unlisted.is_empty() {
            Ok(())
        } else {
            Err(invalid(
                &self.id,
                &format!(
                    "the parser claims {} but its manifest does not list them",
                    unlisted.join(", ")
                ),
            ))
        }
    }

    /// Checks that `wasm` is the file this manifest describes.
    pub fn verify(&self, wasm: &[u8]) -> Result<(), PluginError> {
        let actual = sha256_hex(wasm);
        if !actual.eq_ignore_ascii_case(&self.sha256) {
            return Err(invalid(
                &self.id,
                &format!(
                    "{} has sha256 {actual}, the manifest says {}",
                    self.wasm, self.sha256
                ),
            ));
        }
        Ok(())
    }

    /// The limits this plugin runs under: what it asked for, within `ceiling`.
    pub fn limits(&self, ceiling: &PluginLimits) -> PluginLimits {
        let requested = &self.limits;
        PluginLimits {
            fuel: requested
                .fuel
                .map_or(ceiling.fuel, |fuel| fuel.min(ceiling.fuel)),
            timeout: requested
                .timeout_ms
                .map(Duration::from_millis)
                .map_or(ceiling.timeout, |timeout| timeout.min(ceiling.timeout)),
            memory_bytes: requested.memory_mb.map_or(ceiling.memory_bytes, |mb| {
                usize::try_from(mb.saturating_mul(1 << 20))
                    .unwrap_or(usize::MAX)
                    .min(ceiling.memory_bytes)
            }),
            ..ceiling.clone()
        }
    }

    /// Reads and checks `dir/kiln-plugin.toml`.
    pub fn read(dir: &Path) -> Result<Self, PluginError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            invalid(
                &dir.display().to_string(),
                &format!("{}: {e}", path.display()),
            )
        })?;
        Self::parse(&text)
    }

    /// Reads the component this manifest names from `dir`, verified against its hash.
    pub fn read_component(&self, dir: &Path) -> Result<Vec<u8>, PluginError> {
        let path = dir.join(&self.wasm);
        let wasm = std::fs::read(&path)
            .map_err(|e| invalid(&self.id, &format!("{}: {e}", path.display())))?;
        self.verify(&wasm)?;
        Ok(wasm)
    }
}

/// The SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn is_version(text: &str) -> bool {
    let core = text.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn invalid(plugin: &str, reason: &str) -> PluginError {
    PluginError::InvalidManifest {
        plugin: plugin.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(extra: &str) -> String {
        format!(
            "id = \"acme.parser.ini\"\nversion = \"1.0.0\"\nkind = \"language-parser\"\napi = \"{API_VERSION}\"\nwasm = \"ini.wasm\"\nsha256 = \"{}\"\nextensions = [\"ini\"]\n{extra}",
            sha256_hex(b"wasm")
        )
    }

    #[test]
    fn accepts_a_good_manifest_and_clamps_its_limits() {
        let parsed =
            Manifest::parse(&manifest("[limits]\nfuel = 1\ntimeout_ms = 999999\n")).unwrap();
        assert_eq!(parsed.kind, PluginKind::LanguageParser);
        parsed.verify(b"wasm").unwrap();
        let ceiling = PluginLimits::default();
        let limits = parsed.limits(&ceiling);
        assert_eq!(limits.fuel, 1);
        assert_eq!(limits.timeout, ceiling.timeout);
    }

    #[test]
    fn refuses_bad_manifests_with_a_reason() {
        let cases = [
            (
                manifest("").replace("acme.parser.ini", "../evil"),
                "invalid_manifest",
            ),
            (
                manifest("").replace("ini.wasm", "../x.wasm"),
                "invalid_manifest",
            ),
            (
                manifest("").replace(API_VERSION, "9.0.0"),
                "incompatible_api",
            ),
            (manifest("unknown = 1"), "invalid_manifest"),
            (
                manifest("").replace("language-parser", "spreadsheet"),
                "invalid_manifest",
            ),
        ];
        for (text, code) in cases {
            assert_eq!(Manifest::parse(&text).unwrap_err().code(), code, "{text}");
        }
        let good = Manifest::parse(&manifest("")).unwrap();
        assert_eq!(
            good.verify(b"tampered").unwrap_err().code(),
            "invalid_manifest"
        );
    }
}
