//! The HTTP transport driven in-process: real router, SurrealDB `mem://`, real plugins.

use std::{path::PathBuf, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use kiln_core::{
    Services, SnippetService,
    db::{DbConfig, connect},
    migrations::{Migrator, bundled},
};
use kiln_plugin_host::{PluginEngine, PluginLimits, SnippetExtractorPlugin};
use kiln_server::http::{AppState, router};
use leptos::prelude::LeptosOptions;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn app(plugin_file: &str, limits: PluginLimits) -> Router {
    let db = connect(&DbConfig::memory()).await.unwrap();
    Migrator::new(&db, bundled()).up().await.unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/dist")
        .join(plugin_file);
    let wasm = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make plugins`)", path.display()));
    let engine = PluginEngine::new().unwrap();
    let plugin = SnippetExtractorPlugin::load(&engine, plugin_file, &wasm, limits).unwrap();
    let services = Services::new(db, SnippetService::new(Some(plugin)));
    let leptos_options = LeptosOptions::builder().output_name("kiln").build();
    router(AppState {
        services,
        leptos_options,
    })
}

async fn bundled_app() -> Router {
    app("kiln_snippet_extractor.wasm", PluginLimits::default()).await
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response has a request id"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_json(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = bundled_app().await;
    assert_eq!(
        send(&app, get("/health")).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        send(&app, get("/health/ready")).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
}

#[tokio::test]
async fn extracts_snippets_with_the_documented_fields() {
    let app = bundled_app().await;
    let markdown = "Two blocks:\n```rust\nfn a() {}\n```\n```\nplain\n```\n";
    let (status, body) = send(
        &app,
        post_json(
            "/api/snippets/extract",
            json!({"markdown": markdown}).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"snippets": [
            {"language": "rust", "info": "rust", "code": "fn a() {}\n", "start_line": 2, "end_line": 4},
            {"language": null, "info": "", "code": "plain\n", "start_line": 5, "end_line": 7},
        ]})
    );
}

#[tokio::test]
async fn bad_requests_get_the_error_envelope() {
    let app = bundled_app().await;
    let (status, body) = send(&app, post_json("/api/snippets/extract", "{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["type"], "bad_request");
    let (status, body) = send(&app, post_json("/api/snippets/extract", r#"{"md": "x"}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["type"], "validation_error");
    let (status, body) = send(&app, get("/api/nothing/here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["type"], "not_found");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = bundled_app().await;
    let huge = json!({"markdown": "x".repeat(2 << 20)}).to_string();
    let (status, body) = send(&app, post_json("/api/snippets/extract", huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["type"], "payload_too_large");
}

#[tokio::test]
async fn server_function_bodies_are_limited_too() {
    let app = bundled_app().await;
    let (path, _) = leptos::server_fn::axum::server_fn_paths()
        .find(|(path, _)| path.contains("create_project"))
        .expect("the create_project server function is registered");
    let body = format!("name={}", "x".repeat(2 << 20));
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    let (status, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["type"], "payload_too_large");
}

#[tokio::test]
async fn a_hostile_plugin_is_stopped_and_the_server_keeps_serving() {
    let limits = PluginLimits {
        timeout: Duration::from_millis(300),
        fuel: u64::MAX,
        ..PluginLimits::default()
    };
    let app = app("fixtures/kiln_fixture_spin.wasm", limits).await;
    let request = || {
        post_json(
            "/api/snippets/extract",
            json!({"markdown": "```\nx\n```"}).to_string(),
        )
    };
    let (status, body) = send(&app, request()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["type"], "service_unavailable");
    assert!(
        body["detail"].as_str().unwrap().contains("timeout"),
        "{body}"
    );
    // Several hostile calls at once still each end in a typed error.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (app, request) = (app.clone(), request());
        calls.spawn(async move { send(&app, request).await.0 });
    }
    for status in calls.join_all().await {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(send(&app, get("/health/ready")).await.0, StatusCode::OK);
}
