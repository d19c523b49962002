//! The OpenAPI 3.1 document, generated from the handlers' annotations (the router and
//! the document are built from the same `routes!` lists, so they cannot drift), and a
//! docs page rendered from it on the server: no JavaScript, nothing from other sites.

use axum::{
    Json,
    extract::State,
    response::{Html, IntoResponse},
};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        OpenApi as Document, PathItem,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kiln",
        description = "Kiln's REST API. Every error is `{\"type\", \"detail\", \"request_id\", \"fields\"?}`. \
            API clients authenticate with `Authorization: Bearer <access token>`; browsers with \
            the session cookies, plus the `X-CSRF-Token` header on state-changing requests.",
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "projects", description = "Projects and everything inside them"),
        (name = "timeline", description = "What happened, per project and across projects"),
        (name = "chat", description = "Threads, messages and the replies streamed over each thread's WebSocket"),
        (name = "snippets", description = "Code blocks in Markdown"),
        (name = "health", description = "Liveness and readiness probes"),
        (name = "admin", description = "Installation-wide views for administrators"),
        (name = "docs", description = "This document"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(kiln_types::ACCESS_COOKIE))),
        );
    }
}

/// Adds the error answers every operation of its kind can give, where the handler's
/// annotation does not list them already: each is the error envelope. A request body
/// may be malformed (400), too large (413), of another media type (415) or invalid
/// (422); parameters may be malformed (400) or invalid (422); a route that needs a
/// login answers 401 without one, and 403 to a browser without its CSRF header on a
/// state-changing call; and every route is rate limited (429).
pub fn add_common_errors(document: &mut Document) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, path::HttpMethod};
    let envelope = |description: &str| -> RefOr<utoipa::openapi::Response> {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ApiError")))
            .build();
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build()
            .into()
    };
    for item in document.paths.paths.values_mut() {
        for (method, operation) in [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ] {
            let Some(operation) = operation else { continue };
            let body = operation.request_body.is_some();
            let parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let login = operation.security.is_some();
            let changes = method != HttpMethod::Get;
            let mut add = |status: &str, applies: bool, description: &str| {
                if applies && !operation.responses.responses.contains_key(status) {
                    operation
                        .responses
                        .responses
                        .insert(status.to_owned(), envelope(description));
                }
            };
            add(
                "400",
                body || parameters,
                "Malformed request: a body that is not JSON, or a parameter of the wrong form",
            );
            add("401", login, "Not logged in, or the session has ended");
            add(
                "403",
                login && changes,
                "A browser request without its CSRF header",
            );
            add(
                "413",
                body,
                "The body is larger than the limit (`limit`, in bytes)",
            );
            add("415", body, "The body is not in the documented media type");
            add(
                "422",
                body || parameters,
                "Invalid input; `fields` names what and why",
            );
            add(
                "429",
                true,
                "Too many requests; retry after `Retry-After` seconds",
            );
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.openapi.as_ref().clone())
}

/// The API reference as a web page.
#[utoipa::path(get, path = "/api/docs", tag = "docs",
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn page(State(state): State<AppState>) -> Html<String> {
    Html(render(&state.openapi))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn operations(item: &PathItem) -> Vec<(&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|op| (method, op)))
    .collect()
}

fn render(document: &Document) -> String {
    let mut body = String::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in operations(item) {
            let summary = operation.summary.as_deref().unwrap_or_default();
            let description = operation.description.as_deref().unwrap_or_default();
            let auth = if operation.security.is_some() {
                "login required"
            } else {
                "public"
            };
            body.push_str(&format!(
                "<section class=\"op\"><h2><span class=\"method\">{method}</span> <code>{}</code></h2>\
                 <p>{}</p>{}<p class=\"auth\">{auth}</p><ul>",
                escape(path),
                escape(summary),
                if description.is_empty() { String::new() } else { format!("<p>{}</p>", escape(description)) },
            ));
            for (status, response) in &operation.responses.responses {
                let text = match response {
                    utoipa::openapi::RefOr::T(response) => response.description.clone(),
                    utoipa::openapi::RefOr::Ref(reference) => reference.ref_location.clone(),
                };
                body.push_str(&format!(
                    "<li><strong>{}</strong> {}</li>",
                    escape(status),
                    escape(&text)
                ));
            }
            body.push_str("</ul></section>");
        }
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Kiln API reference</title><link rel=\"stylesheet\" href=\"/pkg/kiln.css\"></head>\
         <body><main class=\"api-docs\"><h1>Kiln API reference</h1><p>{}</p>\
         <p>Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1).</p>{body}</main></body></html>",
        escape(document.info.description.as_deref().unwrap_or_default()),
    )
}
