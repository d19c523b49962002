//! Where a file's outline comes from, and that one file's trouble never costs the
//! others theirs: a file the parser cannot read is that file's outcome (reported on it,
//! counted apart, the parser stays in service); a file indexed while its parser was
//! unavailable gets the built-in chunks and is parsed again when the parser is back.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::files::{call, project, upload};
use crate::support::app::{Account, TestApp, bearer, get};

/// Runs the indexer by hand until nothing is due.
async fn index_all(app: &TestApp) {
    let indexer = app.services.files.indexer().await.unwrap();
    while indexer.step().await.unwrap() > 0 {}
}

async fn file_by_path(app: &TestApp, user: &Account, project: &str, path: &str) -> Value {
    let list = call(
        app,
        user,
        "GET",
        &format!("/api/projects/{project}/files"),
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let id = list.body["files"]
        .as_array()
        .or_else(|| list.body.as_array())
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} is listed: {}", list.text))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(app, user, "GET", &format!("/api/files/{id}"), None)
        .await
        .body
}

fn symbol_names(file: &Value) -> Vec<String> {
    file["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn set_enabled(app: &TestApp, admin: &Account, plugin: &str, enabled: bool) -> StatusCode {
    let uri = format!("/api/admin/plugins/{plugin}");
    let body = json!({ "enabled": enabled });
    call(app, admin, "PATCH", &uri, Some(body)).await.status
}

async fn index_status(app: &TestApp, user: &Account, project: &str) -> Value {
    let uri = format!("/api/projects/{project}/index-status");
    call(app, user, "GET", &uri, None).await.body
}

#[tokio::test]
async fn files_the_parser_cannot_read_are_reported_and_cost_no_other_file_its_outline() {
    // The catch-all parser too, as `kiln serve` has it: it never stands in for a failing
    // language parser (the file would look parsed, with no symbols).
    let app = with_python(TestApp::builder())
        .bundle(
            "kiln.parser.generic",
            "language-parser",
            "kiln_parser_generic.wasm",
            "languages = [\"text\"]\nextensions = [\"*\"]",
        )
        .without_indexer()
        .build()
        .await;
    let admin = app.register("admin@example.org").await;
    let project = project(&app, &admin).await;
    // More unreadable files in a row than it takes to quarantine a failing plugin.
    let broken: Vec<(String, String)> = (0..5)
        .map(|i| (format!("gen/broken_{i}.py"), format!("def broken_{i}(:\n")))
        .collect();
    let files: Vec<(&str, &[u8])> = broken
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .collect();
    assert_eq!(
        upload(&app, &admin, &project, &files).await.status,
        StatusCode::OK
    );
    index_all(&app).await;
    let valid: &[(&str, &[u8])] = &[
        (
            "app/models.py",
            b"class Invoice:\n    def total(self):\n        return 0\n",
        ),
        (
            "app/services.py",
            b"def send_invoice(invoice):\n    return invoice\n",
        ),
    ];
    assert_eq!(
        upload(&app, &admin, &project, valid).await.status,
        StatusCode::OK
    );
    index_all(&app).await;

    let models = file_by_path(&app, &admin, &project, "app/models.py").await;
    assert_eq!(models["outline"], "parsed", "{models}");
    assert_eq!(symbol_names(&models), ["Invoice", "total"]);
    let services = file_by_path(&app, &admin, &project, "app/services.py").await;
    assert_eq!(symbol_names(&services), ["send_invoice"]);

    let unreadable = file_by_path(&app, &admin, &project, "gen/broken_0.py").await;
    assert_eq!(
        (&unreadable["index_status"], &unreadable["outline"]),
        (&json!("indexed"), &json!("unparsable")),
        "{unreadable}"
    );
    let reason = unreadable["outline_error"].as_str().unwrap();
    assert!(
        reason.contains("kiln.parser.python") && reason.contains("broken_0.py:1:"),
        "{reason}"
    );

    let status = index_status(&app, &admin, &project).await;
    assert_eq!(
        (
            &status["indexed"],
            &status["failed"],
            &status["unparsable"],
            &status["fallback"]
        ),
        (&json!(7), &json!(0), &json!(5), &json!(0)),
        "{status}"
    );
    let listed: Vec<&str> = status["without_outline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 5, "{status}");
    assert!(listed.iter().all(|p| p.starts_with("gen/broken_")));

    let plugin = app
        .send(bearer(get("/api/admin/plugins/kiln.parser.python"), &admin))
        .await;
    assert_eq!(plugin.body["status"], "active", "{}", plugin.text);
    assert_eq!(
        plugin.body["failures"]["reported_error"], 5,
        "{}",
        plugin.text
    );
}

#[tokio::test]
async fn files_indexed_while_their_parser_was_unavailable_are_parsed_again_when_it_is_back() {
    let app = TestApp::builder()
        .bundle(
            "kiln.parser.rust",
            "language-parser",
            "kiln_parser_rust.wasm",
            "extensions = [\"rs\"]",
        )
        // Breaks the contract on every answer: an unhealthy plugin, not a bad file.
        .bundle(
            "acme.bad",
            "language-parser",
            "fixtures/kiln_fixture_bad_parser.wasm",
            "extensions = [\"rs\", \"bad\"]",
        )
        .without_indexer()
        .build()
        .await;
    let admin = app.register("admin@example.org").await;
    let project = project(&app, &admin).await;
    assert_eq!(
        set_enabled(&app, &admin, "kiln.parser.rust", false).await,
        StatusCode::OK
    );
    let source: &[u8] = b"pub fn load_settings() -> u32 {\n    7\n}\n";
    upload(&app, &admin, &project, &[("src/settings.rs", source)]).await;
    index_all(&app).await;

    let file = file_by_path(&app, &admin, &project, "src/settings.rs").await;
    assert_eq!(
        (&file["index_status"], &file["outline"]),
        (&json!("indexed"), &json!("fallback")),
        "{file}"
    );
    assert!(
        file["outline_error"].as_str().unwrap().contains("acme.bad"),
        "{file}"
    );
    let status = index_status(&app, &admin, &project).await;
    assert_eq!(
        (&status["queued"], &status["fallback"]),
        (&json!(0), &json!(1)),
        "searchable now, nothing shown as waiting: {status}"
    );

    // The parser is back; once the re-parse is due, the file gets its outline.
    assert_eq!(
        set_enabled(&app, &admin, "kiln.parser.rust", true).await,
        StatusCode::OK
    );
    app.services
        .db
        .query("UPDATE file SET index_retry_at = time::now() WHERE outline = 'fallback'")
        .await
        .unwrap()
        .check()
        .unwrap();
    index_all(&app).await;
    let file = file_by_path(&app, &admin, &project, "src/settings.rs").await;
    assert_eq!(file["outline"], "parsed", "{file}");
    assert_eq!(file["outline_error"], Value::Null);
    assert_eq!(symbol_names(&file), ["load_settings"]);
    let status = index_status(&app, &admin, &project).await;
    assert_eq!(status["fallback"], 0, "{status}");
}

/// `shared/cases/12-jupyter`: code cells indexed as the kernel's language with their
/// symbols, markdown as text, the 120 KB base64 plot output never indexed.
#[tokio::test]
async fn notebooks_are_indexed_by_their_cells_and_never_their_outputs() {
    let app = with_python(TestApp::builder())
        .without_indexer()
        .build()
        .await;
    let admin = app.register("admin@example.org").await;
    let project = project(&app, &admin).await;
    let notebook = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/cases/analysis.ipynb"),
    )
    .unwrap();
    upload(
        &app,
        &admin,
        &project,
        &[("notebooks/analysis.ipynb", &notebook)],
    )
    .await;
    index_all(&app).await;

    let file = file_by_path(&app, &admin, &project, "notebooks/analysis.ipynb").await;
    assert_eq!(
        (&file["language"], &file["outline"]),
        (&json!("python"), &json!("parsed")),
        "{}",
        file["outline_error"]
    );
    assert_eq!(symbol_names(&file), ["load_dataset", "df"]);
    // The symbol points at the cell's own line in the notebook.
    let content = file["content"].as_str().unwrap();
    let line = file["symbols"][0]["span"]["start_line"].as_u64().unwrap() as usize;
    assert!(
        content
            .lines()
            .nth(line - 1)
            .unwrap()
            .contains("def load_dataset(path)")
    );

    let search = |q: &'static str| {
        let uri = format!("/api/projects/{project}/search?q={q}");
        let (app, admin) = (&app, &admin);
        async move { call(app, admin, "GET", &uri, None).await.body["hits"].clone() }
    };
    let hits = search("load_dataset").await;
    assert_eq!(
        hits.as_array().unwrap().len(),
        2,
        "the definition and the call: {hits}"
    );
    assert_eq!(
        search("monthly").await.as_array().unwrap().len(),
        1,
        "markdown cells are text"
    );
    for junk in ["kggo", "iVBORw0KGgo", "AAAASUVORK5CYII"] {
        assert_eq!(
            search(junk).await,
            json!([]),
            "{junk} is output data, not a word"
        );
    }

    // A cell magic makes its cell another language: the rest keeps its outline.
    let magic = json!({
        "cells": [
            {"cell_type": "code", "source": ["%%bash\n", "ls -la | wc -l\n"], "outputs": []},
            {"cell_type": "code", "source": ["%matplotlib inline\n", "def plot_churn(df):\n", "    return df\n"], "outputs": []}
        ],
        "metadata": {"kernelspec": {"language": "python"}}, "nbformat": 4, "nbformat_minor": 5
    })
    .to_string();
    upload(
        &app,
        &admin,
        &project,
        &[("notebooks/magic.ipynb", magic.as_bytes())],
    )
    .await;
    index_all(&app).await;
    let file = file_by_path(&app, &admin, &project, "notebooks/magic.ipynb").await;
    assert_eq!(file["outline"], "parsed", "{}", file["outline_error"]);
    assert_eq!(symbol_names(&file), ["plot_churn"]);
}

/// The bundled Python parser, as `kiln serve` loads it.
fn with_python(builder: crate::support::app::Builder) -> crate::support::app::Builder {
    builder.bundle(
        "kiln.parser.python",
        "language-parser",
        "kiln_parser_python.wasm",
        "languages = [\"python\"]\nextensions = [\"py\", \"pyi\", \"pyw\"]",
    )
}

/// Every bundled language parser, as `kiln serve` loads them.
fn with_bundled_parsers(builder: crate::support::app::Builder) -> crate::support::app::Builder {
    with_python(builder)
        .bundle(
            "kiln.parser.javascript",
            "language-parser",
            "kiln_parser_javascript.wasm",
            "languages = [\"javascript\", \"typescript\"]\n\
             extensions = [\"js\", \"mjs\", \"cjs\", \"jsx\", \"ts\", \"mts\", \"cts\", \"tsx\"]",
        )
        .bundle(
            "kiln.parser.rust",
            "language-parser",
            "kiln_parser_rust.wasm",
            "languages = [\"rust\"]\nextensions = [\"rs\"]",
        )
        .bundle(
            "kiln.parser.go",
            "language-parser",
            "kiln_parser_go.wasm",
            "languages = [\"go\"]\nextensions = [\"go\"]",
        )
}

fn read(relative: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `shared/cases/03`, `04`, `05`: Python 3.12 f-strings, minified bundles with regex
/// literals, and generated code whose syntax tree is 20,000 levels deep. Each used to
/// make its parser refuse or crash, and three in a row quarantined it for everyone.
#[tokio::test]
async fn real_world_code_keeps_its_outline() {
    let app = with_bundled_parsers(TestApp::builder())
        .without_indexer()
        .build()
        .await;
    let admin = app.register("admin@example.org").await;
    let project = project(&app, &admin).await;

    let terms = 20_000;
    let chain: Vec<String> = (0..terms)
        .map(|i| format!("0x{:x}", 1_u64 << (i % 63)))
        .collect();
    let flags = format!(
        "pub const ALL_FLAGS: u64 = {};\n\npub fn has_flag(value: u64, flag: u64) -> bool {{\n    value & flag != 0\n}}\n",
        chain.join(" | ")
    );
    let arms: Vec<String> = (0..terms / 4)
        .map(|i| format!("if code == {i} {{\n        {}\n    }}", i * 7 % 13))
        .collect();
    let classify = format!(
        "pub fn classify(code: u32) -> u32 {{\n    {} else {{\n        0\n    }}\n}}\n\npub fn is_known(code: u32) -> bool {{\n    code < {}\n}}\n",
        arms.join(" else "),
        terms / 4
    );
    let parts: Vec<String> = (0..terms).map(|i| format!("\"{}\"", i % 10)).collect();
    let assets = format!(
        "package assets\n\nvar indexHTML = {}\n\nfunc IndexHTML() string {{\n\treturn indexHTML\n}}\n",
        parts.join(" +\n\t")
    );
    let python = "../plugins/parsers/python/tests/data";
    let javascript = "../plugins/parsers/javascript/tests/data";
    let vendor = "tests/it/data/cases";
    let sources: Vec<(String, Vec<u8>)> = vec![
        (
            "reports/contacts.py".into(),
            read(&format!("{python}/reports/contacts.py")),
        ),
        (
            "reports/paths.py".into(),
            read(&format!("{python}/reports/paths.py")),
        ),
        (
            "reports/totals.py".into(),
            read(&format!("{python}/reports/totals.py")),
        ),
        (
            "out/vendor/charts.min.js".into(),
            read(&format!("{vendor}/charts.min.js")),
        ),
        (
            "out/vendor/editor.min.js".into(),
            read(&format!("{vendor}/editor.min.js")),
        ),
        (
            "out/vendor/forms.min.js".into(),
            read(&format!("{vendor}/forms.min.js")),
        ),
        ("gen/flags.rs".into(), flags.into_bytes()),
        ("gen/classify.rs".into(), classify.into_bytes()),
        ("gen/assets.go".into(), assets.into_bytes()),
        (
            "app/models.py".into(),
            read(&format!("{python}/app/models.py")),
        ),
        (
            "app/services.py".into(),
            read(&format!("{python}/app/services.py")),
        ),
        ("src/api.ts".into(), read(&format!("{javascript}/api.ts"))),
        (
            "src/store.ts".into(),
            read(&format!("{javascript}/store.ts")),
        ),
        ("src/ui.jsx".into(), read(&format!("{javascript}/ui.jsx"))),
    ];
    let files: Vec<(&str, &[u8])> = sources
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let reply = upload(&app, &admin, &project, &files).await;
    assert_eq!(reply.body["created"], sources.len(), "{}", reply.text);
    index_all(&app).await;

    for (path, expected) in [
        ("reports/contacts.py", &["describe", "header"][..]),
        ("reports/paths.py", &["SEPARATOR", "label", "nested"]),
        ("reports/totals.py", &["TotalsReport", "line"]),
        ("gen/flags.rs", &["ALL_FLAGS", "has_flag"]),
        ("gen/classify.rs", &["classify", "is_known"]),
        ("gen/assets.go", &["indexHTML", "IndexHTML"]),
        (
            "app/services.py",
            &["MAX_RETRIES", "send_invoice", "retry_delay"],
        ),
    ] {
        let file = file_by_path(&app, &admin, &project, path).await;
        assert_eq!(
            file["outline"], "parsed",
            "{path}: {}",
            file["outline_error"]
        );
        assert_eq!(symbol_names(&file), expected, "{path}");
    }
    for path in ["app/models.py", "src/api.ts", "src/store.ts", "src/ui.jsx"] {
        let file = file_by_path(&app, &admin, &project, path).await;
        assert_eq!(
            file["outline"], "parsed",
            "{path}: {}",
            file["outline_error"]
        );
        assert!(!symbol_names(&file).is_empty(), "{path} has its symbols");
    }
    let status = index_status(&app, &admin, &project).await;
    assert_eq!(
        (
            &status["failed"],
            &status["unparsable"],
            &status["fallback"]
        ),
        (&json!(0), &json!(0), &json!(0)),
        "{status}"
    );
    for plugin in ["python", "javascript", "rust", "go"] {
        let reply = app
            .send(bearer(
                get(&format!("/api/admin/plugins/kiln.parser.{plugin}")),
                &admin,
            ))
            .await;
        assert_eq!(reply.body["status"], "active", "{}", reply.text);
        assert_eq!(reply.body["failures"], json!({}), "{}", reply.text);
    }
}
