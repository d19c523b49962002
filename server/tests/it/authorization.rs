//! The authorization matrix: every route of the router's own route table (REST routes,
//! server functions, pages — and anything added later, documented or not), asked by an
//! anonymous visitor and by a user who does not own the project in question. A route
//! added later without the right check makes this test fail.

use crate::support;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use kiln_server::http::{Access, route_table};
use serde_json::json;
use support::app::{TestApp, bearer, get, post_json};

/// What the matrix expects to be reachable without logging in. Changing this list is a
/// security decision: make it in review, not by accident.
const EXPECTED_PUBLIC: &[&str] = &[
    "/health",
    "/health/ready",
    "/api/openapi.json",
    "/api/docs",
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/logout",
    "/api/ui/session",
    "/api/ui/login",
    "/api/ui/register",
    "/api/ui/refresh",
    "/api/ui/logout",
    "/login",
    "/register",
];

/// Every route the router serves, from the table the router is built with.
fn all_routes() -> Vec<(Method, String)> {
    route_table()
        .entries()
        .iter()
        .map(|entry| (entry.method.clone(), entry.path.clone()))
        .collect()
}

#[tokio::test]
async fn the_route_table_holds_every_rest_route_server_function_and_page() {
    let routes = all_routes();
    let has = |method: Method, path: &str| routes.contains(&(method, path.to_owned()));
    for (path, item) in kiln_server::http::openapi_document().paths.paths {
        if item.get.is_some() {
            assert!(has(Method::GET, &path), "GET {path}");
        }
        if item.post.is_some() {
            assert!(has(Method::POST, &path), "POST {path}");
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        assert!(has(method.clone(), path), "{method} {path}");
    }
    assert!(has(Method::GET, "/projects/{id}"), "pages: {routes:?}");
}

fn request(method: &Method, path: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method.clone()).uri(path);
    if !path.starts_with("/api/") && !path.starts_with("/health") {
        builder = builder.header(header::ACCEPT, "text/html");
    }
    if *method != Method::GET {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    let body = if *method == Method::GET {
        Body::empty()
    } else {
        Body::from("{}")
    };
    builder.body(body).unwrap()
}

#[tokio::test]
async fn the_public_routes_are_exactly_the_expected_ones() {
    let table = route_table();
    let mut actual: Vec<&str> = table
        .entries()
        .iter()
        .filter(|entry| entry.policy.access == Access::Public)
        .map(|entry| entry.path.as_str())
        .collect();
    let mut expected = EXPECTED_PUBLIC.to_vec();
    actual.sort_unstable();
    actual.dedup();
    expected.sort_unstable();
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn anonymous_visitors_reach_only_public_routes() {
    let app = TestApp::new().await;
    let routes = all_routes();
    assert!(
        routes.len() >= 20,
        "the route list looks incomplete: {routes:?}"
    );
    for (method, template) in routes {
        let path = template
            .replace("{project_id}", "some-project")
            .replace("{id}", "some-project");
        let reply = app.send(request(&method, &path)).await;
        let public = EXPECTED_PUBLIC.contains(&template.as_str());
        if public {
            // The handler itself answered (it may still want credentials in the body).
            let refused_by_gate = reply.status == StatusCode::SEE_OTHER
                || reply.body["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("log in first"));
            assert!(
                !refused_by_gate,
                "{method} {template} is public: {}",
                reply.text
            );
            continue;
        }
        if path.starts_with("/api/") {
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {template}: {}",
                reply.text
            );
            assert_eq!(reply.body["type"], "unauthorized", "{method} {template}");
        } else {
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "page {template}");
            let location = reply.headers[header::LOCATION].to_str().unwrap();
            assert!(
                location.starts_with("/login?next=%2F"),
                "page {template} → {location}"
            );
        }
    }
}

#[tokio::test]
async fn only_the_owner_reaches_a_project_and_what_is_inside_it() {
    let app = TestApp::new().await;
    let owner = app.register("owner@example.org").await;
    let stranger = app.register("stranger@example.org").await;
    let new_project = |name: String| {
        let app = &app;
        let owner = &owner;
        async move {
            let created = app
                .send(bearer(
                    post_json("/api/projects", json!({"name": name})),
                    owner,
                ))
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
            created.body["id"].as_str().unwrap().to_owned()
        }
    };

    let mut checked = 0;
    for (method, template) in all_routes() {
        if !template.contains("{project_id}") {
            continue;
        }
        // A fresh project per route: some routes (DELETE) consume theirs.
        let id = new_project(format!("{method} {template}")).await;
        let path = template.replace("{project_id}", &id);
        let refused = app.send(bearer(request(&method, &path), &stranger)).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{method} {template}: {}",
            refused.text
        );
        assert_eq!(refused.body["type"], "forbidden");
        let allowed = app.send(bearer(request(&method, &path), &owner)).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&allowed.status),
            "{method} {template} refused its owner: {}",
            allowed.text
        );
        checked += 1;
    }
    assert!(checked >= 5, "project-scoped routes missing: {checked}");
    let id = new_project("secret".into()).await;

    // The project's page and server function apply the same rule.
    let get_project = leptos::server_fn::axum::server_fn_paths()
        .find(|(path, _)| path.contains("get_project"))
        .unwrap()
        .0;
    let refused = app
        .send(bearer(get(&format!("{get_project}?id={id}")), &stranger))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let page = Request::get(format!("/projects/{id}"))
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let page = app.send(bearer(page, &stranger)).await;
    assert!(page.text.contains("another account"), "{}", page.text);
    assert!(!page.text.contains(">secret<"), "the name must not leak");

    // Lists show only your own.
    let list = app.send(bearer(get("/api/projects"), &stranger)).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn admin_routes_are_for_the_administrator_only() {
    let app = TestApp::new().await;
    let admin = app.register("admin@example.org").await;
    let user = app.register("user@example.org").await;
    let mut checked = 0;
    for (method, path) in all_routes() {
        if !path.starts_with("/api/admin/") {
            continue;
        }
        let refused = app.send(bearer(request(&method, &path), &user)).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            refused.text
        );
        // The administrator gets past the door; what follows depends on the request
        // (an empty upload is a 400, an unknown id a 404).
        let allowed = app.send(bearer(request(&method, &path), &admin)).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&allowed.status),
            "{method} {path}: {}",
            allowed.text
        );
        checked += 1;
    }
    assert!(checked >= 6, "every admin route was checked");
    let plugins = app.send(bearer(get("/api/admin/plugins"), &admin)).await;
    assert_eq!(plugins.body[0]["kind"], "snippet-extractor");
    assert_eq!(plugins.body[0]["status"], "active");
}

#[tokio::test]
async fn only_the_owner_reaches_a_thread_and_its_messages() {
    let app = TestApp::new().await;
    let owner = app.register("owner@example.org").await;
    let stranger = app.register("stranger@example.org").await;
    let created = app
        .send(bearer(
            post_json("/api/projects", json!({"name": "chat"})),
            &owner,
        ))
        .await;
    let project = created.body["id"].as_str().unwrap().to_owned();
    let mut checked = 0;
    for (method, template) in all_routes() {
        if !(template.contains("{thread_id}") || template.contains("{message_id}")) {
            continue;
        }
        // A fresh thread and question per route: some routes (DELETE) consume theirs.
        let thread = app
            .send(bearer(
                post_json(&format!("/api/projects/{project}/threads"), json!({})),
                &owner,
            ))
            .await;
        let thread = thread.body["id"].as_str().unwrap().to_owned();
        let sent = app
            .send(bearer(
                post_json(
                    &format!("/api/threads/{thread}/messages"),
                    json!({"content": "hello"}),
                ),
                &owner,
            ))
            .await;
        let message = sent.body["message"]["id"].as_str().unwrap().to_owned();
        let path = template
            .replace("{thread_id}", &thread)
            .replace("{message_id}", &message);
        let refused = app.send(bearer(request(&method, &path), &stranger)).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{method} {template}: {}",
            refused.text
        );
        let allowed = app.send(bearer(request(&method, &path), &owner)).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&allowed.status),
            "{method} {template} refused its owner: {}",
            allowed.text
        );
        checked += 1;
    }
    assert!(
        checked >= 13,
        "thread- and message-scoped routes missing: {checked}"
    );
}

#[tokio::test]
async fn an_id_that_cannot_exist_is_not_found_on_every_route_never_a_server_error() {
    let app = TestApp::new().await;
    let user = app.register("ids@example.org").await;
    let mut checked = 0;
    for (method, template) in all_routes() {
        if !template.contains('{') {
            continue;
        }
        // The empty id (`/api/threads//messages`) used to reach the database as
        // `type::record('thread', '')` and come back a 500.
        for id in ["", "%20", "thread:x", "%E2%9F%A8%E2%9F%A9", "a'b", ".."] {
            let path = template
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        id
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let reply = app.send(bearer(request(&method, &path), &user)).await;
            // Pages show their own "unavailable" notice; the API answers 4xx.
            let fine = if path.starts_with("/api/") {
                reply.status.is_client_error()
            } else {
                !reply.status.is_server_error()
            };
            assert!(fine, "{method} {path}: {} {}", reply.status, reply.text);
        }
        checked += 1;
    }
    assert!(checked >= 20, "routes with ids missing: {checked}");
}
