//! Plugin host benchmark (`make bench`): prints figures, asserts nothing.
//!
//! - per-call overhead: fresh store + instantiate + a trivial call (the LLM policy's
//!   `decide`), median over many calls; target ≤ 25 µs on a 2-core machine;
//! - sandbox vs native: the snippet extractor's and every bundled language parser's
//!   throughput inside the sandbox against the same code compiled natively, measured
//!   in the same run, on real files (`plugins/parsers/corpus`); target ≥ 0.7×.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use kiln_plugin_host::{
    LanguageParserPlugin, LlmFailure, LlmPolicyPlugin, PluginEngine, PluginLimits,
    SnippetExtractorPlugin, check_parsed,
};
use kiln_plugin_sdk::parser::LanguageParser;

fn wasm(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/dist")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `make plugins`)", path.display()))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// A chat-sized Markdown document with many fenced blocks.
fn corpus() -> String {
    let mut markdown = String::new();
    for i in 0..4000 {
        markdown.push_str(&format!(
            "Step {i}: change the handler.\n\n```rust title=src/lib{i}.rs\nfn handler_{i}(x: u32) -> u32 {{\n    x * {i} + 1\n}}\n```\n\n> note\n\n~~~python\nprint({i})\n~~~\n\n"
        ));
    }
    markdown
}

fn main() {
    let engine = PluginEngine::new().expect("engine");
    let limits = PluginLimits::default();

    let policy = LlmPolicyPlugin::load(
        &engine,
        "bench.policy",
        &wasm("kiln_llm_policy.wasm"),
        limits.clone(),
    )
    .expect("policy plugin");
    let failure = LlmFailure {
        http_status: 503,
        model: "m".into(),
        attempt: 1,
        fallback_models: vec!["m".into()],
        ..LlmFailure::default()
    };
    for _ in 0..200 {
        policy.decide(&failure).expect("warm-up");
    }
    let calls: Vec<Duration> = (0..2000)
        .map(|_| {
            let started = Instant::now();
            policy.decide(&failure).expect("decide");
            started.elapsed()
        })
        .collect();
    let native: Vec<Duration> = (0..2000)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(kiln_llm_policy_rules::decide(std::hint::black_box(
                &failure,
            )));
            started.elapsed()
        })
        .collect();
    let overhead = median(calls);
    println!(
        "per-call overhead (fresh store + instantiate + trivial call): median {:.1} µs (native call {:.2} µs; target ≤ 25 µs)",
        overhead.as_secs_f64() * 1e6,
        median(native).as_secs_f64() * 1e6
    );

    let extractor = SnippetExtractorPlugin::load(
        &engine,
        "bench.snippets",
        &wasm("kiln_snippet_extractor.wasm"),
        limits,
    )
    .expect("snippet plugin");
    let markdown = corpus();
    let rounds = 30;
    let sandboxed: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(extractor.extract(&markdown).expect("extract"));
            started.elapsed()
        })
        .collect();
    let native: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(kiln_snippet_rules::extract(std::hint::black_box(&markdown)));
            started.elapsed()
        })
        .collect();
    let (sandboxed, native) = (median(sandboxed), median(native));
    let mib = markdown.len() as f64 / (1024.0 * 1024.0);
    println!(
        "snippet extraction on {:.2} MiB: sandboxed {:.1} MiB/s, native {:.1} MiB/s → {:.2}× native (target ≥ 0.7×)",
        mib,
        mib / sandboxed.as_secs_f64(),
        mib / native.as_secs_f64(),
        native.as_secs_f64() / sandboxed.as_secs_f64()
    );

    println!("language parsers on real files, one call per file (fresh instance each):");
    parser_ratio::<kiln_parser_rust::RustParser>(
        &engine,
        "rust",
        &["anyhow_error.rs", "http_method.rs"],
    );
    parser_ratio::<kiln_parser_python::PythonParser>(
        &engine,
        "python",
        &["textwrap.py", "contextlib.py"],
    );
    parser_ratio::<kiln_parser_javascript::JavaScriptParser>(
        &engine,
        "javascript",
        &["rxjs_TestScheduler.ts", "playwright_output.js"],
    );
    parser_ratio::<kiln_parser_go::GoParser>(&engine, "go", &["sort.go", "builder.go"]);
    parser_ratio::<kiln_parser_markdown::MarkdownParser>(&engine, "markdown", &["serde_README.md"]);
    parser_ratio::<kiln_parser_generic::GenericParser>(
        &engine,
        "generic",
        &["sort.go", "textwrap.py"],
    );
}

/// Parses `files` repeatedly in the sandbox and natively; prints both rates.
fn parser_ratio<P: LanguageParser>(engine: &PluginEngine, name: &str, files: &[&str]) {
    let plugin = LanguageParserPlugin::load(
        engine,
        name,
        &wasm(&format!("kiln_parser_{name}.wasm")),
        PluginLimits::default(),
    )
    .expect("parser plugin");
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|file| {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../plugins/parsers/corpus")
                .join(file);
            (
                file.to_string(),
                std::fs::read_to_string(path).expect("corpus file"),
            )
        })
        .collect();
    let bytes: usize = sources.iter().map(|(_, source)| source.len()).sum();
    let rounds = 20;
    let time = |parse: &dyn Fn(&str, &str)| {
        let samples = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                for (path, source) in &sources {
                    parse(path, source);
                }
                started.elapsed()
            })
            .collect();
        median(samples)
    };
    let sandboxed = time(&|path, source| {
        std::hint::black_box(plugin.parse(path, source, 2048).expect("sandboxed parse"));
    });
    // The native side passes the same host checks, so the ratio is the sandbox's cost.
    let native = time(&|path, source| {
        let parsed = P::parse(path, source, 2048).expect("native parse");
        std::hint::black_box(check_parsed(name, source, &parsed, 2048).expect("native check"));
    });
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "  {name:<10} {:>5.0} KiB: sandboxed {:>6.1} MiB/s, native {:>6.1} MiB/s → {:.2}× native",
        bytes as f64 / 1024.0,
        mib / sandboxed.as_secs_f64(),
        mib / native.as_secs_f64(),
        native.as_secs_f64() / sandboxed.as_secs_f64()
    );
}
