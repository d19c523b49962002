//! The sandbox against real compiled components (built by `make plugins`).

mod support;

use std::time::Duration;

use support::wasm;

use kiln_plugin_host::{Origin, PluginEngine, PluginError, PluginLimits, SnippetExtractorPlugin};

fn load(engine: &PluginEngine, file: &str, limits: PluginLimits) -> SnippetExtractorPlugin {
    SnippetExtractorPlugin::load(engine, file, &wasm(file), limits).unwrap()
}

const TWO_BLOCKS: &str =
    "# Notes\n\n```rust\nfn main() {}\n```\n\n~~~python title=x.py\nprint(1)\n~~~\n";

#[test]
fn the_bundled_extractor_finds_fenced_blocks() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(
        &engine,
        "kiln_snippet_extractor.wasm",
        PluginLimits::default(),
    );
    let snippets = plugin.extract(TWO_BLOCKS).unwrap();
    assert_eq!(snippets.len(), 2);
    assert_eq!(snippets[0].language.as_deref(), Some("rust"));
    assert_eq!(snippets[0].code, "fn main() {}\n");
    assert_eq!((snippets[0].start_line, snippets[0].end_line), (3, 5));
    assert_eq!(snippets[1].info, "python title=x.py");
    assert_eq!((snippets[1].start_line, snippets[1].end_line), (7, 9));
}

#[test]
fn an_infinite_loop_is_stopped_by_the_deadline() {
    let engine = PluginEngine::new().unwrap();
    let limits = PluginLimits {
        fuel: u64::MAX,
        timeout: Duration::from_millis(200),
        ..PluginLimits::default()
    };
    let spin = load(&engine, "fixtures/kiln_fixture_spin.wasm", limits);
    let err = spin.extract("x").unwrap_err();
    assert!(
        matches!(
            err,
            PluginError::Timeout {
                timeout_ms: 200,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_infinite_loop_is_stopped_by_the_fuel_budget() {
    let engine = PluginEngine::new().unwrap();
    let limits = PluginLimits {
        fuel: 5_000_000,
        timeout: Duration::from_secs(60),
        ..PluginLimits::default()
    };
    let spin = load(&engine, "fixtures/kiln_fixture_spin.wasm", limits);
    let err = spin.extract("x").unwrap_err();
    assert_eq!(err.code(), "out_of_fuel", "{err:?}");
}

#[test]
fn a_plugin_cannot_sleep_past_its_deadline() {
    let engine = PluginEngine::new().unwrap();
    let sleeper = load(
        &engine,
        "fixtures/kiln_fixture_sleeper.wasm",
        PluginLimits::default(),
    );
    match sleeper.extract("x").unwrap_err() {
        PluginError::Crashed { reason, .. } => {
            assert!(reason.contains("may not sleep"), "{reason}")
        }
        other => panic!("expected the timer to be refused, got {other:?}"),
    }
}

#[test]
fn a_memory_hog_hits_the_memory_limit() {
    let engine = PluginEngine::new().unwrap();
    let limits = PluginLimits {
        memory_bytes: 16 << 20,
        ..PluginLimits::default()
    };
    let hog = load(
        &engine,
        "fixtures/kiln_fixture_memory_hog.wasm",
        limits.clone(),
    );
    let err = hog.extract("x").unwrap_err();
    assert!(
        matches!(err, PluginError::MemoryLimit { limit_bytes, .. } if limit_bytes == 16 << 20),
        "{err:?}"
    );
}

#[test]
fn a_crash_reports_the_plugins_stderr_and_the_host_carries_on() {
    let engine = PluginEngine::new().unwrap();
    let crash = load(
        &engine,
        "fixtures/kiln_fixture_crash.wasm",
        PluginLimits::default(),
    );
    match crash.extract("four").unwrap_err() {
        PluginError::Crashed { stderr_tail, .. } => {
            assert!(stderr_tail.contains("refusing 4 bytes"), "{stderr_tail}");
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    // The trap poisoned only that call's instance: the next call starts fresh.
    assert!(matches!(
        crash.extract("x"),
        Err(PluginError::Crashed { .. })
    ));
    let good = load(
        &engine,
        "kiln_snippet_extractor.wasm",
        PluginLimits::default(),
    );
    assert_eq!(good.extract(TWO_BLOCKS).unwrap().len(), 2);
}

#[test]
fn oversized_input_is_refused_before_the_plugin_runs() {
    let engine = PluginEngine::new().unwrap();
    let limits = PluginLimits {
        max_input_bytes: 10,
        ..PluginLimits::default()
    };
    let plugin = load(&engine, "kiln_snippet_extractor.wasm", limits);
    let err = plugin.extract("more than ten bytes").unwrap_err();
    assert_eq!(
        err,
        PluginError::InputTooLarge {
            size: 19,
            limit: 10
        }
    );
}

#[test]
fn something_that_is_not_a_component_is_refused_at_load() {
    let engine = PluginEngine::new().unwrap();
    let result = SnippetExtractorPlugin::load(
        &engine,
        "junk",
        b"\0asm not really",
        PluginLimits::default(),
    );
    assert_eq!(result.err().map(|e| e.code()), Some("incompatible_api"));
}

#[test]
fn a_restart_loads_the_compiled_plugin_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let file = "kiln_snippet_extractor.wasm";
    let engine = PluginEngine::new().unwrap().with_cache_dir(dir.path());
    let first = load(&engine, file, PluginLimits::default());
    assert_eq!(first.origin(), Origin::Compiled);
    // A new engine, as after a restart.
    let engine = PluginEngine::new().unwrap().with_cache_dir(dir.path());
    let second = load(&engine, file, PluginLimits::default());
    assert_eq!(second.origin(), Origin::Cache);
    assert_eq!(
        second.extract(TWO_BLOCKS).unwrap(),
        first.extract(TWO_BLOCKS).unwrap()
    );

    // A damaged entry is thrown away and rebuilt, never loaded.
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(entries.len(), 1, "one artifact per plugin and engine");
    std::fs::write(entries[0].path(), b"not a compiled component").unwrap();
    let third = load(&engine, file, PluginLimits::default());
    assert_eq!(third.origin(), Origin::Compiled);
    assert_eq!(
        load(&engine, file, PluginLimits::default()).origin(),
        Origin::Cache
    );

    // Another plugin gets its own entry.
    let other = load(
        &engine,
        "fixtures/kiln_fixture_crash.wasm",
        PluginLimits::default(),
    );
    assert_eq!(other.origin(), Origin::Compiled);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

fn load_err(file: &str) -> PluginError {
    let engine = PluginEngine::new().unwrap();
    match SnippetExtractorPlugin::load(&engine, file, &wasm(file), PluginLimits::default()) {
        Ok(_) => panic!("{file} must be refused at load"),
        Err(error) => error,
    }
}

#[test]
fn deep_recursion_overflows_its_own_stack_only() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(
        &engine,
        "fixtures/kiln_fixture_recursion.wasm",
        PluginLimits::default(),
    );
    let error = plugin.extract("x").unwrap_err();
    assert_eq!(error.code(), "crashed", "{error}");
    assert!(error.to_string().contains("stack"), "{error}");
    // The host's own stack is untouched: the bundled plugin still works on this thread.
    let good = load(
        &engine,
        "kiln_snippet_extractor.wasm",
        PluginLimits::default(),
    );
    assert_eq!(good.extract(TWO_BLOCKS).unwrap().len(), 2);
}

#[test]
fn output_over_the_cap_is_refused() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(
        &engine,
        "fixtures/kiln_fixture_huge_output.wasm",
        PluginLimits::default(),
    );
    let error = plugin.extract("x").unwrap_err();
    assert_eq!(error.code(), "invalid_output", "{error}");
}

#[test]
fn a_wrong_api_version_or_a_missing_export_is_refused_at_load() {
    for file in [
        "fixtures/kiln_fixture_wrong_version.wasm",
        "fixtures/kiln_fixture_missing_export.wasm",
    ] {
        let error = load_err(file);
        assert_eq!(error.code(), "incompatible_api", "{file}: {error}");
        assert!(
            error.to_string().contains("kiln:plugin/snippets"),
            "{file}: {error}"
        );
    }
}

#[test]
fn a_slow_but_legal_plugin_is_left_to_finish() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(
        &engine,
        "fixtures/kiln_fixture_slow.wasm",
        PluginLimits::default(),
    );
    let snippets = plugin.extract("one\ntwo").unwrap();
    assert_eq!(snippets.len(), 1);
    assert_eq!((snippets[0].start_line, snippets[0].end_line), (1, 2));
    let stats = plugin.stats();
    assert_eq!((stats.calls, stats.failures.len()), (1, 0));
    assert!(stats.fuel_consumed > 1_000_000, "{stats:?}");
}

#[test]
fn no_call_sees_what_an_earlier_call_left_behind() {
    let engine = PluginEngine::new().unwrap();
    let plugin = load(
        &engine,
        "fixtures/kiln_fixture_snoop.wasm",
        PluginLimits::default(),
    );
    let report = |input: &str| plugin.extract(input).unwrap()[0].language.clone().unwrap();
    // The scan works: a secret planted in the same call is found.
    assert_eq!(report("plant-first"), "calls=1 found=true");
    // Each call plants a secret and the next looks for it: fresh statics, clean memory,
    // even though the pool hands out the same warm slot again.
    for _ in 0..5 {
        assert_eq!(report("x"), "calls=1 found=false");
    }
}
