//! `kiln plugin`: tools for plugin authors.
//!
//! - `new <name> --kind <kind>` scaffolds a plugin crate that builds as is;
//! - `check <file.wasm>` loads a component the way Kiln does (its manifest too, when
//!   one sits next to it), runs one smoke call under the real limits and reports fuel,
//!   time and peak memory.
//!
//! These commands talk to a person at a terminal, so they print to stdout.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use kiln_plugin_host::{
    LanguageParserPlugin, LlmFailure, LlmPolicyPlugin, MANIFEST_FILE, Manifest, PluginEngine,
    PluginKind, PluginLimits, PluginStats, SnippetExtractorPlugin,
};

#[derive(Subcommand)]
pub enum Action {
    /// Create a new plugin crate in ./<name>.
    New {
        /// Directory and crate name, e.g. `ini-parser`.
        name: String,
        #[arg(long, value_enum)]
        kind: Kind,
        /// The Kiln plugin SDK to depend on (default: the one next to this Kiln).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Validate a plugin component and run a smoke call under Kiln's limits.
    Check {
        /// The `.wasm` component; a `kiln-plugin.toml` next to it is checked as well.
        wasm: PathBuf,
        /// A source file for a parser's smoke call (default: a small built-in sample
        /// for the parser's first extension).
        #[arg(long)]
        sample: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    LanguageParser,
    SnippetExtractor,
    LlmPolicy,
}

pub fn run(action: Action) -> anyhow::Result<()> {
    match action {
        Action::New { name, kind, sdk } => scaffold(&name, kind, sdk),
        Action::Check { wasm, sample } => check(&wasm, sample.as_deref()),
    }
}

fn scaffold(name: &str, kind: Kind, sdk: Option<PathBuf>) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 48
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!("name must be lower-case letters, digits and '-', starting with a letter");
    }
    let dir = PathBuf::from(name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk = match sdk {
        Some(sdk) => sdk,
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk"),
    };
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("the plugin SDK at {} (pass --sdk)", sdk.display()))?;
    let crate_name = name.replace('-', "_");
    let (kind_name, source) = match kind {
        Kind::LanguageParser => ("language-parser", PARSER_TEMPLATE),
        Kind::SnippetExtractor => ("snippet-extractor", SNIPPETS_TEMPLATE),
        Kind::LlmPolicy => ("llm-policy", POLICY_TEMPLATE),
    };
    let extensions = if matches!(kind, Kind::LanguageParser) {
        "languages = [\"ini\"]\nextensions = [\"ini\", \"cfg\"]\n"
    } else {
        ""
    };
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nkiln-plugin-sdk = {{ path = {sdk:?} }}\n\n[profile.release]\nopt-level = 3\nlto = true\ncodegen-units = 1\npanic = \"abort\"\nstrip = true\n\n# A crate of its own, even inside another workspace.\n[workspace]\n"
        ),
    )?;
    std::fs::write(dir.join("src/lib.rs"), source)?;
    std::fs::write(
        dir.join(MANIFEST_FILE),
        format!(
            "# Install: upload this file and the .wasm on Kiln's plugin page, or copy both\n# into a sub-directory of the plugins directory and reload. Set sha256 with\n# `sha256sum target/wasm32-wasip2/release/{crate_name}.wasm`.\nid = \"local.{name}\"\nversion = \"0.1.0\"\nkind = \"{kind_name}\"\napi = \"{}\"\nwasm = \"{crate_name}.wasm\"\nsha256 = \"\"\n{extensions}",
            kiln_plugin_host::API_VERSION
        ),
    )?;
    println!("Created {name}/ ({kind_name}). Next:");
    println!("  cd {name} && cargo build --target wasm32-wasip2 --release");
    println!("  kiln plugin check target/wasm32-wasip2/release/{crate_name}.wasm");
    Ok(())
}

const PARSER_TEMPLATE: &str = r#"//! A language parser: every `[section]` of an INI file is a symbol; the SDK cuts the
//! chunks along them.

use kiln_plugin_sdk::parser::{LanguageParser, Outline, ParserInfo, Symbol, SymbolKind};

pub struct Ini;

impl LanguageParser for Ini {
    fn info() -> ParserInfo {
        ParserInfo::new(&["ini"], &["ini", "cfg"])
    }

    fn outline(_path: &str, source: &str) -> Result<Outline, String> {
        let mut symbols: Vec<Symbol> = Vec::new();
        let mut offset = 0;
        for line in source.split_inclusive('\n') {
            let header = line.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']'));
            if let Some(name) = header {
                if let Some(previous) = symbols.last_mut() {
                    previous.end = offset;
                }
                let (start, end) = (offset, source.len());
                symbols.push(Symbol { kind: SymbolKind::Module, name: name.into(), start, end, parent: None });
            }
            offset += line.len();
        }
        Ok(Outline::new("ini", symbols))
    }
}

kiln_plugin_sdk::export_language_parser!(Ini);
"#;

const SNIPPETS_TEMPLATE: &str = r#"//! A snippet extractor: backtick-fenced blocks, line by line.

use kiln_plugin_sdk::snippets::{Snippet, SnippetExtractor};

pub struct Fences;

impl SnippetExtractor for Fences {
    fn extract(markdown: &str) -> Result<Vec<Snippet>, String> {
        let mut snippets = Vec::new();
        let mut open: Option<(u32, String, String)> = None;
        for (number, line) in (1u32..).zip(markdown.lines()) {
            match (open.take(), line.trim_start().strip_prefix("```")) {
                (None, Some(info)) => open = Some((number, info.trim().to_owned(), String::new())),
                (Some((start_line, info, code)), Some(_)) => snippets.push(Snippet {
                    language: info.split_whitespace().next().map(str::to_owned),
                    info,
                    code,
                    start_line,
                    end_line: number,
                }),
                (Some((start, info, mut code)), None) => {
                    code.push_str(line);
                    code.push('\n');
                    open = Some((start, info, code));
                }
                (None, None) => {}
            }
        }
        Ok(snippets)
    }
}

kiln_plugin_sdk::export_snippet_extractor!(Fences);
"#;

const POLICY_TEMPLATE: &str = r#"//! An LLM fallback policy: retry rate limits and server errors twice, then give up.

use kiln_plugin_sdk::llm_policy::{Decision, Failure, LlmPolicy};

pub struct Patient;

impl LlmPolicy for Patient {
    fn decide(failure: &Failure) -> Decision {
        let retryable = failure.http_status == 429 || failure.http_status >= 500;
        if retryable && failure.attempt < 3 {
            let after_ms = failure.retry_after_ms.unwrap_or(1000 << failure.attempt);
            Decision::Retry { after_ms }
        } else {
            Decision::GiveUp
        }
    }
}

kiln_plugin_sdk::export_llm_policy!(Patient);
"#;

/// Loads `wasm` like Kiln would and runs one smoke call; fails on any error.
fn check(path: &Path, sample: Option<&Path>) -> anyhow::Result<()> {
    let sample = match sample {
        Some(file) => Some((
            file.to_string_lossy().into_owned(),
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        )),
        None => None,
    };
    let wasm = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let engine = PluginEngine::new()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut limits = PluginLimits::default();
    let mut kinds = vec![
        PluginKind::LanguageParser,
        PluginKind::SnippetExtractor,
        PluginKind::LlmPolicy,
    ];
    let id = if dir.join(MANIFEST_FILE).is_file() {
        let manifest = Manifest::read(dir)?;
        manifest.verify(&wasm)?;
        println!(
            "manifest     {} {} ({}), sha256 matches",
            manifest.id,
            manifest.version,
            manifest.kind.as_str()
        );
        limits = manifest.limits(&limits);
        kinds = vec![manifest.kind];
        manifest.id
    } else {
        println!("manifest     none next to the component (needed to install it)");
        path.file_stem()
            .map_or("plugin".into(), |s| s.to_string_lossy().into_owned())
    };
    println!(
        "limits       fuel {}, {} ms, {} MiB memory",
        limits.fuel,
        limits.timeout.as_millis(),
        limits.memory_bytes >> 20
    );
    let mut refusals = Vec::new();
    for kind in kinds {
        match smoke(&engine, kind, &id, &wasm, &limits, sample.as_ref()) {
            Ok(report) => {
                println!(
                    "kind         {} (kiln:plugin@{})",
                    kind.as_str(),
                    kiln_plugin_host::API_VERSION
                );
                println!("smoke call   {}", report.outcome);
                let stats = &report.stats;
                println!("fuel         {}", stats.fuel_consumed);
                println!(
                    "time         {:.2} ms (including instantiation)",
                    report.millis
                );
                println!(
                    "peak memory  {:.1} KiB",
                    stats.peak_memory_bytes as f64 / 1024.0
                );
                println!("OK");
                return Ok(());
            }
            Err(error) => refusals.push(format!("as {}: {error:#}", kind.as_str())),
        }
    }
    bail!(
        "{} is not a working Kiln plugin:\n  {}",
        path.display(),
        refusals.join("\n  ")
    )
}

struct Report {
    outcome: String,
    stats: PluginStats,
    millis: f64,
}

fn smoke(
    engine: &PluginEngine,
    kind: PluginKind,
    id: &str,
    wasm: &[u8],
    limits: &PluginLimits,
    sample: Option<&(String, String)>,
) -> anyhow::Result<Report> {
    let limits = limits.clone();
    match kind {
        PluginKind::LanguageParser => {
            let plugin = LanguageParserPlugin::load(engine, id, wasm, limits)?;
            let info = plugin.info().clone();
            let extension = info.extensions.first().cloned().unwrap_or_default();
            let (path, source) = match sample {
                Some((path, source)) => (path.clone(), source.as_str()),
                None => {
                    let name = if extension == "*" { "txt" } else { &extension };
                    (format!("sample.{name}"), sample_source(&extension))
                }
            };
            let before = plugin.stats();
            let started = Instant::now();
            let parsed = plugin.parse(&path, source, 512)?;
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            let stats = since(plugin.stats(), &before);
            Ok(Report {
                outcome: format!(
                    "parsed {path}: language {}, {} symbols, {} chunks (claims {} / {})",
                    parsed.language,
                    parsed.symbols.len(),
                    parsed.chunks.len(),
                    info.languages.join(","),
                    info.extensions.join(",")
                ),
                stats,
                millis,
            })
        }
        PluginKind::SnippetExtractor => {
            let plugin = SnippetExtractorPlugin::load(engine, id, wasm, limits)?;
            let started = Instant::now();
            let snippets = plugin.extract(SAMPLE_MARKDOWN)?;
            Ok(Report {
                outcome: format!(
                    "extracted {} snippets from a sample chat message",
                    snippets.len()
                ),
                millis: started.elapsed().as_secs_f64() * 1000.0,
                stats: plugin.stats(),
            })
        }
        PluginKind::LlmPolicy => {
            let plugin = LlmPolicyPlugin::load(engine, id, wasm, limits)?;
            let failure = LlmFailure {
                http_status: 503,
                message: "upstream unavailable".into(),
                model: "primary".into(),
                attempt: 1,
                fallback_models: vec!["fallback".into()],
                ..LlmFailure::default()
            };
            let started = Instant::now();
            let decision = plugin.decide(&failure)?;
            Ok(Report {
                outcome: format!("a 503 on attempt 1 → {decision:?}"),
                millis: started.elapsed().as_secs_f64() * 1000.0,
                stats: plugin.stats(),
            })
        }
    }
}

/// Counters of the calls after `before`.
fn since(after: PluginStats, before: &PluginStats) -> PluginStats {
    PluginStats {
        fuel_consumed: after.fuel_consumed - before.fuel_consumed,
        calls: after.calls - before.calls,
        ..after
    }
}

/// A few lines a parser for `extension` should understand.
fn sample_source(extension: &str) -> &'static str {
    match extension {
        "rs" => {
            "/// Greets.\nfn main() {\n    println!(\"hi\");\n}\n\nstruct Point {\n    x: i32,\n}\n"
        }
        "py" | "pyi" => {
            "class Point:\n    def norm(self):\n        return 0\n\n\ndef main():\n    pass\n"
        }
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => {
            "export class Point {\n  norm() {\n    return 0;\n  }\n}\n\nexport function main() {}\n"
        }
        "go" => "package main\n\ntype Point struct {\n\tX int\n}\n\nfunc main() {}\n",
        "md" | "markdown" => "# Title\n\nText.\n\n## Part\n\nMore.\n",
        _ => "[server]\nport = 8080\n\n[client]\nretries = 3\n",
    }
}

const SAMPLE_MARKDOWN: &str =
    "Try this:\n\n```rust\nfn main() {}\n```\n\n~~~python title=x.py\nprint(1)\n~~~\n";
