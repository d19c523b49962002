//! The HTTP transport: REST routes, the Leptos app and its server functions.

mod error;
mod health;
mod json;
mod snippets;

use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRef},
    routing::{any, get, post},
};
use kiln_app::{App, shell};
use kiln_core::Services;
use kiln_types::{ApiError, ErrorKind};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub use error::ApiErrorResponse;

/// Largest JSON body accepted by default.
const JSON_BODY_LIMIT: usize = 1 << 20;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub services: Services,
    pub leptos_options: LeptosOptions,
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let services = state.services.clone();
    let api = Router::new()
        .route("/api/snippets/extract", post(snippets::extract))
        .route("/api/{*rest}", any(api_not_found));
    Router::new()
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .merge(api)
        .leptos_routes_with_context(&state, routes, move || provide_context(services.clone()), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Two limits: the first for axum's extractors, the second for everything else
        // (server functions read their bodies themselves). A declared length over the
        // limit is refused before a byte of the body is read.
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(JSON_BODY_LIMIT))
        .layer(axum::middleware::map_response(
            error::envelope_for_bare_errors,
        ))
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

/// Every log line of a request carries its id.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
}

async fn api_not_found() -> ApiErrorResponse {
    ApiError::new(ErrorKind::NotFound, "no such API route").into()
}
