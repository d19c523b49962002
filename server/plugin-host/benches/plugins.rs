//! Plugin host benchmark (`make bench`): prints figures, asserts nothing.
//!
//! - per-call overhead: fresh store + instantiate + a trivial call (the LLM policy's
//!   `decide`), median over many calls; target ≤ 25 µs on a 2-core machine;
//! - sandbox vs native: the snippet extractor's throughput inside the sandbox against
//!   the same rules compiled natively, measured in the same run; target ≥ 0.7×.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use kiln_plugin_host::{
    LlmFailure, LlmPolicyPlugin, PluginEngine, PluginLimits, SnippetExtractorPlugin,
};

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
}
