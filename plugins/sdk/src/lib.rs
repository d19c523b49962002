//! The Kiln plugin SDK.
//!
//! A plugin implements one trait and exports it with one macro:
//!
//! ```ignore
//! use kiln_plugin_sdk::parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind};
//!
//! /// INI files: every `[section]` is a symbol.
//! pub struct Ini;
//!
//! impl LanguageParser for Ini {
//!     fn info() -> ParserInfo {
//!         ParserInfo::new(&["ini"], &["ini", "cfg"])
//!     }
//!
//!     fn outline(_path: &str, source: &str) -> Result<Outline, String> {
//!         let mut symbols = Vec::new();
//!         let mut offset = 0;
//!         for line in source.split_inclusive('\n') {
//!             if let Some(name) = line.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
//!                 if let Some(last) = symbols.last_mut() {
//!                     let last: &mut Symbol = last;
//!                     last.end = offset;
//!                 }
//!                 symbols.push(Symbol { kind: SymbolKind::Module, name: name.into(), start: offset, end: source.len(), parent: None });
//!             }
//!             offset += line.len();
//!         }
//!         Ok(Outline::new("ini", symbols))
//!     }
//! }
//!
//! kiln_plugin_sdk::export_language_parser!(Ini);
//! ```
//!
//! Everything except the bindings compiles natively too, so a plugin's logic can be
//! unit-tested with plain `cargo test` and benchmarked against its sandboxed build.

pub mod chunking;
pub mod llm_policy;
pub mod nesting;
pub mod parser;
pub mod snippets;
pub mod stack;
pub mod text;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings;

/// Writes a line to Kiln's log, tagged with the plugin's id (a no-op natively).
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// Severity of a [`log`] line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}
