//! The HTTP transport driven in-process: real router, SurrealDB `mem://`, real plugins.

use crate::support;

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use kiln_plugin_host::PluginLimits;
use serde_json::json;
use support::app::{TestApp, bearer, get, post_json, post_raw};

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = TestApp::new().await;
    for path in ["/health", "/health/ready"] {
        let reply = app.send(get(path)).await;
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::OK, json!({"status": "ok"}))
        );
    }
}

#[tokio::test]
async fn extracts_snippets_with_the_documented_fields() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let markdown = "Two blocks:\n```rust\nfn a() {}\n```\n```\nplain\n```\n";
    let reply = app
        .send(bearer(
            post_json("/api/snippets/extract", json!({"markdown": markdown})),
            &ada,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"snippets": [
            {"language": "rust", "info": "rust", "code": "fn a() {}\n", "start_line": 2, "end_line": 4},
            {"language": null, "info": "", "code": "plain\n", "start_line": 5, "end_line": 7},
        ]})
    );
}

/// `shared/cases/07-fence-tabs-cr`: a bare CR, a CRLF and an LF each end a line, and a
/// tab indents a fence in a list item — through the plugin and the built-in alike.
#[tokio::test]
async fn snippets_follow_commonmark_line_endings_and_tabs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/cases/fences");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    for (app, plugin_answers) in [
        (TestApp::new().await, true),
        // A plugin that always crashes: the built-in rules answer.
        (
            TestApp::builder()
                .plugin("fixtures/kiln_fixture_crash.wasm", PluginLimits::default())
                .build()
                .await,
            false,
        ),
    ] {
        let ada = app.register("ada@example.org").await;
        for case in ["cr_only", "crlf", "list_tabs"] {
            let request = read(&format!("{case}.json"));
            let reply = app
                .send(bearer(post_json("/api/snippets/extract", request), &ada))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.text);
            assert_eq!(reply.body, read(&format!("expected-{case}.json")), "{case}");
        }
        if plugin_answers {
            // The plugin's own answers passed the host's checks: nothing fell back.
            let stats = app.services.snippets.plugin_stats().unwrap();
            assert!(stats.failures.is_empty(), "{stats:?}");
        }
    }
}

#[tokio::test]
async fn bad_requests_get_the_error_envelope_with_the_request_id() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let reply = app
        .send(bearer(post_raw("/api/snippets/extract", "{not json"), &ada))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["type"], "bad_request");
    let reply = app
        .send(bearer(
            post_raw("/api/snippets/extract", r#"{"md": "x"}"#),
            &ada,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["type"], "validation_error");
    let reply = app
        .send(bearer(
            post_json("/api/projects", json!({"name": " "})),
            &ada,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["fields"][0]["field"], "name");
    // The id in the body is the one in the header (and in every log line).
    assert_eq!(
        reply.body["request_id"].as_str(),
        reply.headers["x-request-id"].to_str().ok()
    );
    let reply = app.send(get("/api/nothing/here")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["type"], "not_found");
    let delete = Request::delete("/api/auth/login")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(delete).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.body["type"], "method_not_allowed");
    assert!(reply.body["request_id"].is_string(), "{}", reply.text);
}

#[tokio::test]
async fn a_page_load_with_only_a_refresh_cookie_renews_the_session() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let page = |cookie: String| {
        Request::get("/account")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };
    // The access cookie has expired (the browser dropped it); the refresh cookie is there.
    let reply = app
        .send(page(format!("kiln_refresh={}", ada.refresh_token)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "no detour to the login page");
    assert!(reply.text.contains("ada@example.org"), "{}", reply.text);
    let renewed: Vec<_> = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect();
    assert!(
        renewed.iter().any(|c| c.starts_with("kiln_access=ey")),
        "{renewed:?}"
    );
    let renewed_refresh = renewed
        .iter()
        .find_map(|c| c.strip_prefix("kiln_refresh="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();

    // Tabs restored at once all present the same cookie: they share that one renewal
    // instead of looking like a replayed token.
    let mut tabs = tokio::task::JoinSet::new();
    let app = std::sync::Arc::new(app);
    for _ in 0..3 {
        let (app, request) = (
            app.clone(),
            page(format!("kiln_refresh={}", ada.refresh_token)),
        );
        tabs.spawn(async move { app.send(request).await });
    }
    for tab in tabs.join_all().await {
        assert_eq!(tab.status, StatusCode::OK);
        let cookie = tab
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .find_map(|c| {
                c.to_str()
                    .ok()?
                    .strip_prefix("kiln_refresh=")
                    .map(|c| c.split(';').next().unwrap_or_default().to_owned())
            });
        assert_eq!(cookie.as_deref(), Some(renewed_refresh.as_str()));
    }
    // The renewed session is alive.
    let refresh = app
        .send(post_json(
            "/api/auth/refresh",
            json!({"refresh_token": renewed_refresh}),
        ))
        .await;
    assert_eq!(refresh.status, StatusCode::OK, "{}", refresh.text);

    // A refresh cookie that is no good leads to the login page, and is cleared.
    let reply = app.send(page("kiln_refresh=forged".into())).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        reply
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn a_client_request_id_is_honoured() {
    let app = TestApp::new().await;
    let request = Request::get("/api/auth/me")
        .header("x-request-id", "trace-me-42")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["x-request-id"], "trace-me-42");
    assert_eq!(reply.body["request_id"], "trace-me-42");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let huge = json!({"markdown": "x".repeat(2 << 20)});
    let reply = app
        .send(bearer(
            post_json("/api/snippets/extract", huge.clone()),
            &ada,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body["type"], "payload_too_large");
    assert!(reply.body["request_id"].is_string(), "{}", reply.text);
    // Anonymous or not, a huge body is never buffered.
    let reply = app.send(post_json("/api/auth/login", huge)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn server_function_bodies_are_limited_too() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let (path, _) = leptos::server_fn::axum::server_fn_paths()
        .find(|(path, _)| path.contains("create_project"))
        .expect("the create_project server function is registered");
    let body = format!("name={}", "x".repeat(2 << 20));
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    let reply = app.send(bearer(request, &ada)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body["type"], "payload_too_large");
}

#[tokio::test]
async fn a_hostile_plugin_is_contained_quarantined_and_the_built_in_answers() {
    let limits = PluginLimits {
        timeout: Duration::from_millis(300),
        fuel: u64::MAX,
        ..PluginLimits::default()
    };
    let app = TestApp::builder()
        .plugin("fixtures/kiln_fixture_spin.wasm", limits)
        .build()
        .await;
    let ada = app.register("ada@example.org").await;
    let request = || {
        bearer(
            post_json("/api/snippets/extract", json!({"markdown": "```\nx\n```"})),
            &ada,
        )
    };
    let expected = json!({"snippets": [
        {"language": null, "info": "", "code": "x\n", "start_line": 1, "end_line": 3}
    ]});
    // The plugin spins until its deadline; the user still gets the answer.
    let reply = app.send(request()).await;
    assert_eq!(
        (reply.status, &reply.body),
        (StatusCode::OK, &expected),
        "{}",
        reply.text
    );
    let stats = app.services.snippets.plugin_stats().unwrap();
    assert_eq!(stats.failures.get("timeout"), Some(&1));
    // Several hostile calls at once: each contained, each answered.
    let app = std::sync::Arc::new(app);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (app, request) = (app.clone(), request());
        calls.spawn(async move { app.send(request).await });
    }
    for reply in calls.join_all().await {
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::OK, expected.clone())
        );
    }
    assert_eq!(app.send(get("/health/ready")).await.status, StatusCode::OK);
    // After repeated failures the plugin is in quarantine: no longer called at all.
    let stats = app.services.snippets.plugin_stats().unwrap();
    assert!(stats.quarantined, "{stats:?}");
    let skipped = stats.skipped;
    let reply = app.send(request()).await;
    assert_eq!((reply.status, reply.body), (StatusCode::OK, expected));
    let stats = app.services.snippets.plugin_stats().unwrap();
    assert_eq!(
        stats.skipped,
        skipped + 1,
        "the quarantined plugin was not run"
    );
    assert!(stats.calls >= 3 && stats.fuel_consumed > 0, "{stats:?}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_rest_route() {
    let app = TestApp::new().await;
    let reply = app.send(get("/api/openapi.json")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        reply.text
    );
    let paths = reply.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/me", "get"),
        ("/api/auth/password", "post"),
        ("/api/projects", "get"),
        ("/api/projects", "post"),
        ("/api/projects/{project_id}", "get"),
        ("/api/projects/{project_id}", "patch"),
        ("/api/projects/{project_id}", "delete"),
        ("/api/projects/{project_id}/status", "post"),
        ("/api/projects/{project_id}/stats", "get"),
        ("/api/projects/{project_id}/timeline", "get"),
        ("/api/timeline", "get"),
        ("/api/snippets/extract", "post"),
        ("/api/admin/plugins", "get"),
        ("/api/admin/plugins", "post"),
        ("/api/admin/plugins/{plugin_id}", "get"),
        ("/api/admin/plugins/{plugin_id}", "patch"),
        ("/api/admin/plugins/{plugin_id}", "delete"),
        ("/api/admin/plugins/reload", "post"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let schemas = &reply.body["components"]["schemas"];
    for schema in [
        "Credentials",
        "TokenResponse",
        "ApiError",
        "Project",
        "ProjectPatch",
        "TimelineEvent",
        "PluginSummary",
        "PluginPatch",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema} missing");
    }
    assert!(reply.body["components"]["securitySchemes"]["bearer"].is_object());

    let page = app.send(get("/api/docs")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.text.contains("<code>/api/auth/login</code>"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn the_built_in_fallback_finds_exactly_what_the_plugin_finds() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let corpus = [
        "```rust title=\"a.rs\" {1,3}\nfn a() {}\n```\n",
        "~~~\ntilde\n~~~\n\n````md\n```inner\n```\n````\n",
        "- item\n\n  ```py\n  print(1)\n  ```\n> ```js\n> quoted()\n> ```\n",
        "text\n```unterminated\nruns to the end",
        "    indented is not a snippet\n",
        "",
    ];
    for markdown in corpus {
        let reply = app
            .send(bearer(
                post_json("/api/snippets/extract", json!({"markdown": markdown})),
                &ada,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let built_in: Vec<_> = kiln_snippet_rules::extract(markdown)
            .into_iter()
            .map(|b| json!({"language": b.language, "info": b.info, "code": b.code, "start_line": b.start_line, "end_line": b.end_line}))
            .collect();
        assert_eq!(reply.body["snippets"], json!(built_in), "{markdown:?}");
    }
    let stats = app.services.snippets.plugin_stats().unwrap();
    assert_eq!(
        (stats.calls, stats.failures.len()),
        (6, 0),
        "the plugin answered every call"
    );
}

/// Pages keep answering while another router is being built. Building one walks the
/// app's pages with leptos' resource loading switched off, and that switch is one flag
/// per process: a page rendered meanwhile waited forever for its data (a test app is
/// built per test, so the suite hung about one run in six).
#[tokio::test]
async fn pages_answer_while_another_router_is_built() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = tokio::task::spawn_blocking({
        let done = done.clone();
        move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::hint::black_box(kiln_server::http::route_table());
            }
        }
    });
    let mut answered = 0;
    for _ in 0..100 {
        let page = Request::get("/account")
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap();
        // A hang detector, not a speed target: a page answers in milliseconds.
        match tokio::time::timeout(Duration::from_secs(60), app.send(bearer(page, &ada))).await {
            Ok(reply)
                if reply.status == StatusCode::OK && reply.text.contains("ada@example.org") =>
            {
                answered += 1
            }
            _ => break,
        }
    }
    // Stopped before asserting: the runtime waits for its blocking tasks.
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    builder.await.unwrap();
    assert_eq!(answered, 100, "a page did not answer");
}
