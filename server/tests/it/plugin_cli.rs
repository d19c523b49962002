//! `kiln plugin new` and `kiln plugin check`, as a plugin author runs them: the
//! scaffold builds with cargo into a real component that passes the check.

use crate::support;

use std::{path::PathBuf, process::Command};

use support::stdout;

fn kiln_plugin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    command.arg("plugin");
    command
}

fn dist(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/dist")
        .join(file)
}

#[test]
fn check_reports_a_working_plugin_and_refuses_a_hostile_one() {
    let output = kiln_plugin()
        .args(["check"])
        .arg(dist("kiln.parser.rust/kiln_parser_rust.wasm"))
        .output()
        .unwrap();
    let report = stdout(&output);
    assert!(output.status.success(), "{report}");
    for expected in [
        "sha256 matches",
        "language-parser",
        "language rust",
        "fuel",
        "peak memory",
        "OK",
    ] {
        assert!(
            report.contains(expected),
            "{expected:?} missing from:\n{report}"
        );
    }
    let output = kiln_plugin()
        .args(["check"])
        .arg(dist("fixtures/kiln_fixture_spin.wasm"))
        .output()
        .unwrap();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        errors.contains("not a working Kiln plugin") && errors.contains("ran out of fuel"),
        "{errors}"
    );
    // A crash is reported with what the plugin wrote to stderr, not a crash of kiln.
    let output = kiln_plugin()
        .args(["check"])
        .arg(dist("fixtures/kiln_fixture_crash.wasm"))
        .output()
        .unwrap();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{errors}");
    assert!(errors.contains("crashed"), "{errors}");
}

/// Builds each scaffold for wasm32-wasip2 (one shared target directory, so the SDK's
/// dependencies compile once) and checks the result.
#[test]
fn every_scaffold_builds_and_passes_the_check() {
    let work = tempfile::tempdir().unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.path().join("target"))
        .join("plugin-scaffolds");
    for (name, kind, expected) in [
        ("ini-parser", "language-parser", "language ini, 2 symbols"),
        ("fence-finder", "snippet-extractor", "extracted 1 snippets"),
        ("patient-policy", "llm-policy", "Retry"),
    ] {
        let output = kiln_plugin()
            .current_dir(work.path())
            .args(["new", name, "--kind", kind])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let manifest =
            std::fs::read_to_string(work.path().join(name).join("kiln-plugin.toml")).unwrap();
        assert!(
            manifest.contains(&format!("kind = \"{kind}\"")),
            "{manifest}"
        );
        let build = Command::new(env!("CARGO"))
            .current_dir(work.path().join(name))
            .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&build.stderr)
        );
        let wasm = target.join(format!(
            "wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        ));
        let output = kiln_plugin().arg("check").arg(&wasm).output().unwrap();
        let report = stdout(&output);
        assert!(
            output.status.success(),
            "{name}: {report}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            report.contains(kind) && report.contains(expected),
            "{name}: {report}"
        );
    }
    // An existing directory is never overwritten.
    let again = kiln_plugin()
        .current_dir(work.path())
        .args(["new", "ini-parser", "--kind", "language-parser"])
        .output()
        .unwrap();
    assert!(!again.status.success());
}
