//! The plugin registry over HTTP: administrators list, disable, prioritise, install,
//! reload and delete plugins; the rest of Kiln follows at once.

use crate::support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use serde_json::{Value, json};
use support::app::{
    Account, SNIPPET_PLUGIN_ID, TestApp, bearer, dist, get, manifest, post_json, write_plugin,
};

const BOUNDARY: &str = "kiln-test-boundary";
/// What the bundled Markdown parser claims, as its manifest must list.
const MARKDOWN_CLAIMS: &str = "extensions = [\"md\", \"markdown\", \"mdown\"]";

fn multipart(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, content) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn install_request(parts: &[(&str, &[u8])], admin: &Account) -> Request<Body> {
    let body = multipart(parts);
    bearer(
        Request::post("/api/admin/plugins")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap(),
        admin,
    )
}

fn patch(uri: &str, body: Value, admin: &Account) -> Request<Body> {
    bearer(
        Request::patch(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        admin,
    )
}

fn delete(uri: &str, admin: &Account) -> Request<Body> {
    bearer(Request::delete(uri).body(Body::empty()).unwrap(), admin)
}

fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|plugin| plugin["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

async fn extract(app: &TestApp, user: &Account) -> Value {
    let reply = app
        .send(bearer(
            post_json(
                "/api/snippets/extract",
                json!({"markdown": "```rust\nfn a() {}\n```"}),
            ),
            user,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body
}

#[tokio::test]
async fn a_disabled_plugin_is_not_called_and_stays_disabled_after_a_reload() {
    let app = TestApp::new().await;
    let admin = app.register("admin@example.org").await;
    let list = app.send(bearer(get("/api/admin/plugins"), &admin)).await;
    let plugin = find(&list.body, SNIPPET_PLUGIN_ID);
    assert_eq!(
        (
            &plugin["kind"],
            &plugin["status"],
            &plugin["source"],
            &plugin["enabled"]
        ),
        (
            &json!("snippet-extractor"),
            &json!("active"),
            &json!("bundled"),
            &json!(true)
        )
    );
    let answer = extract(&app, &admin).await;
    let calls = app.services.snippets.plugin_stats().unwrap().calls;
    assert_eq!(calls, 1);

    let uri = format!("/api/admin/plugins/{SNIPPET_PLUGIN_ID}");
    let reply = app
        .send(patch(&uri, json!({"enabled": false}), &admin))
        .await;
    assert_eq!(
        (reply.status, &reply.body["status"]),
        (StatusCode::OK, &json!("disabled")),
        "{}",
        reply.text
    );
    // Users still get their snippets, from the built-in extractor.
    assert_eq!(extract(&app, &admin).await, answer);
    assert!(
        app.services.snippets.plugin_stats().is_none(),
        "no extractor is enabled"
    );

    let reply = app
        .send(bearer(
            post_json("/api/admin/plugins/reload", json!({})),
            &admin,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(find(&reply.body, SNIPPET_PLUGIN_ID)["status"], "disabled");
    let reply = app
        .send(patch(&uri, json!({"enabled": true, "priority": 5}), &admin))
        .await;
    assert_eq!(
        (&reply.body["status"], &reply.body["priority"]),
        (&json!("active"), &json!(5))
    );
    let reply = app
        .send(patch(&uri, json!({"priority": 5000}), &admin))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let reply = app
        .send(patch(&uri, json!({"colour": "red"}), &admin))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let reply = app
        .send(patch(
            "/api/admin/plugins/nope",
            json!({"enabled": false}),
            &admin,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_uploaded_plugin_is_validated_installed_used_and_deleted() {
    let app = TestApp::new().await;
    let admin = app.register("admin@example.org").await;
    let wasm = std::fs::read(dist("kiln_parser_markdown.wasm")).unwrap();
    let good = manifest("acme.markdown", "language-parser", &wasm, MARKDOWN_CLAIMS);

    // A parser claiming more files than its manifest lists.
    let narrow = manifest(
        "acme.narrow",
        "language-parser",
        &wasm,
        "extensions = [\"md\"]",
    );
    // Refused before anything is written: a hash that does not match, a component
    // that is not the kind its manifest says, a manifest that is not one.
    let tampered = [&wasm[..], b"x"].concat();
    for (parts, fragment) in [
        (
            vec![("manifest", good.as_bytes()), ("wasm", &tampered[..])],
            "sha256",
        ),
        (
            vec![
                (
                    "manifest",
                    manifest("acme.wrong", "snippet-extractor", &wasm, "")
                        .as_bytes()
                        .to_vec()
                        .leak() as &[u8],
                ),
                ("wasm", &wasm[..]),
            ],
            "does not implement",
        ),
        (
            vec![("manifest", &b"id = 3"[..]), ("wasm", &wasm[..])],
            "invalid",
        ),
        (
            vec![("manifest", narrow.as_bytes()), ("wasm", &wasm[..])],
            "does not list",
        ),
    ] {
        let reply = app.send(install_request(&parts, &admin)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text
        );
        assert!(
            reply.body["detail"].as_str().unwrap().contains(fragment),
            "{}",
            reply.text
        );
    }
    let installed = app.plugin_dirs.path().join("installed");
    assert!(!installed.join("acme.markdown").exists() && !installed.join("acme.wrong").exists());
    let reply = app
        .send(install_request(&[("manifest", good.as_bytes())], &admin))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);

    let reply = app
        .send(install_request(
            &[("manifest", good.as_bytes()), ("wasm", &wasm)],
            &admin,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        (&reply.body["source"], &reply.body["status"]),
        (&json!("installed"), &json!("active"))
    );
    assert!(installed.join("acme.markdown/kiln-plugin.toml").is_file());
    let parsed = app
        .services
        .parsers
        .parse(
            "docs/README.md",
            "# Title\n\ntext\n\n## Part\n\nmore\n".into(),
        )
        .await
        .unwrap();
    assert_eq!(
        (parsed.file.parser.as_str(), parsed.file.language.as_str()),
        ("acme.markdown", "markdown")
    );
    assert_eq!(parsed.file.symbols.len(), 2);

    let again = app
        .send(install_request(
            &[("manifest", good.as_bytes()), ("wasm", &wasm)],
            &admin,
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let reply = app
        .send(delete(
            &format!("/api/admin/plugins/{SNIPPET_PLUGIN_ID}"),
            &admin,
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CONFLICT,
        "bundled plugins are only disabled"
    );
    let reply = app
        .send(delete("/api/admin/plugins/acme.markdown", &admin))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(!installed.join("acme.markdown").exists());
    let reply = app
        .send(bearer(get("/api/admin/plugins/acme.markdown"), &admin))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let parsed = app
        .services
        .parsers
        .parse("README.md", "# T\n".into())
        .await
        .unwrap();
    assert_eq!(parsed.file.parser, "built-in");
}

#[tokio::test]
async fn reload_finds_new_plugins_and_lists_broken_ones_with_the_reason() {
    let app = TestApp::new().await;
    let admin = app.register("admin@example.org").await;
    let installed = app.plugin_dirs.path().join("installed");
    write_plugin(
        &installed,
        "acme.rust",
        "language-parser",
        "kiln_parser_rust.wasm",
        "extensions = [\"rs\"]",
    );
    write_plugin(
        &installed,
        "acme.broken",
        "language-parser",
        "kiln_parser_go.wasm",
        "extensions = [\"go\"]",
    );
    std::fs::write(installed.join("acme.broken/plugin.wasm"), b"\0asm garbage").unwrap();
    write_plugin(
        &installed,
        "acme.policy",
        "llm-policy",
        "fixtures/kiln_fixture_missing_export.wasm",
        "",
    );

    let reply = app
        .send(bearer(
            post_json("/api/admin/plugins/reload", json!({})),
            &admin,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(find(&reply.body, "acme.rust")["status"], "active");
    let broken = find(&reply.body, "acme.broken");
    assert_eq!(broken["status"], "rejected");
    assert!(
        broken["error"].as_str().unwrap().contains("sha256"),
        "{broken}"
    );
    let policy = find(&reply.body, "acme.policy");
    assert_eq!(policy["status"], "rejected");
    assert!(
        policy["error"]
            .as_str()
            .unwrap()
            .contains("does not implement"),
        "{policy}"
    );
    let parsed = app
        .services
        .parsers
        .parse("src/lib.rs", "fn main() {}\n".into())
        .await
        .unwrap();
    assert_eq!(parsed.file.parser, "acme.rust");
    // A broken plugin can be deleted like any installed one.
    let reply = app
        .send(delete("/api/admin/plugins/acme.broken", &admin))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
}

#[tokio::test]
async fn priority_decides_between_parsers_and_a_failing_one_falls_through() {
    let app = TestApp::builder()
        .bundle(
            "kiln.parser.rust",
            "language-parser",
            "kiln_parser_rust.wasm",
            "extensions = [\"rs\"]",
        )
        .bundle(
            "acme.bad",
            "language-parser",
            "fixtures/kiln_fixture_bad_parser.wasm",
            "extensions = [\"rs\", \"bad\"]",
        )
        .build()
        .await;
    let admin = app.register("admin@example.org").await;
    let parse = || {
        app.services
            .parsers
            .parse("src/main.rs", "fn main() {}\n".into())
    };
    // Equal priority: by id, so the bad parser is asked first — its answer breaks the
    // contract, and the next parser answers.
    assert_eq!(parse().await.unwrap().file.parser, "kiln.parser.rust");
    let reply = app
        .send(bearer(get("/api/admin/plugins/acme.bad"), &admin))
        .await;
    assert_eq!(
        reply.body["failures"]["invalid_output"], 1,
        "{}",
        reply.text
    );
    app.send(patch(
        "/api/admin/plugins/kiln.parser.rust",
        json!({"priority": 10}),
        &admin,
    ))
    .await;
    assert_eq!(parse().await.unwrap().file.parser, "kiln.parser.rust");
    let reply = app
        .send(bearer(get("/api/admin/plugins/acme.bad"), &admin))
        .await;
    assert_eq!(
        reply.body["calls"], 2,
        "info() and the one parse; not asked again"
    );
    // With every claimant disabled, the built-in parser answers.
    for id in ["kiln.parser.rust", "acme.bad"] {
        app.send(patch(
            &format!("/api/admin/plugins/{id}"),
            json!({"enabled": false}),
            &admin,
        ))
        .await;
    }
    let parsed = parse().await.unwrap();
    assert_eq!(
        (parsed.file.parser.as_str(), parsed.file.chunks.len()),
        ("built-in", 1)
    );
}

#[tokio::test]
async fn only_administrators_manage_plugins() {
    let app = TestApp::new().await;
    let _admin = app.register("admin@example.org").await;
    let user = app.register("user@example.org").await;
    let wasm = std::fs::read(dist("kiln_parser_markdown.wasm")).unwrap();
    let good = manifest("acme.markdown", "language-parser", &wasm, MARKDOWN_CLAIMS);
    let reply = app
        .send(install_request(
            &[("manifest", good.as_bytes()), ("wasm", &wasm)],
            &user,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert!(
        !app.plugin_dirs
            .path()
            .join("installed/acme.markdown")
            .exists()
    );
}
