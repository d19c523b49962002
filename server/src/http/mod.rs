//! The HTTP transport: REST routes, the Leptos app and its server functions, and the
//! envelope around every request (ids, limits, authentication, errors).

mod access;
mod admin;
mod auth;
mod chat;
mod error;
mod files;
mod health;
mod json;
mod openapi;
mod policy;
mod projects;
mod rate_limit;
mod session;
mod snippets;
mod strict;
mod ws;

use std::sync::{Arc, OnceLock};

use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRef},
    http::{HeaderName, HeaderValue, Method, header},
    middleware::{from_fn_with_state, map_response_with_state},
    response::{IntoResponse, Response},
    routing::any,
};
use kiln_app::{App, shell};
use kiln_core::{Services, auth::cookies::CookiePolicy};
use kiln_types::{ApiError, ErrorKind};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouter},
    routes,
};

pub use error::ApiErrorResponse;
pub use policy::{Access, BodyClass, RateClass, RouteEntry, RoutePolicy, RouteTable};
pub use rate_limit::RateLimits;
pub use ws::{Connections, WsSettings};

/// Which other origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers: only Kiln's own pages.
    SameOriginOnly,
    /// These origins, with credentials (cookies).
    List(Vec<String>),
    /// Any origin, never with credentials (development only).
    AnyWithoutCredentials,
}

/// Transport settings from the configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body outside upload routes (`KILN_JSON_BODY_LIMIT`).
    pub json_body_limit: usize,
    /// Largest request body on upload routes (`KILN_UPLOAD_BODY_LIMIT`).
    pub upload_body_limit: usize,
    /// `Secure` cookies: Kiln is served over https (`KILN_PUBLIC_URL`).
    pub secure_cookies: bool,
    /// The origin (`https://kiln.example.com`) of `KILN_PUBLIC_URL`: Kiln's own, also
    /// when a proxy in front rewrites `Host`.
    pub public_origin: Option<String>,
    pub cors: CorsOrigins,
    pub rate_limits: RateLimits,
    pub ws: WsSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            json_body_limit: 1 << 20,
            upload_body_limit: 50 << 20,
            secure_cookies: false,
            public_origin: None,
            cors: CorsOrigins::SameOriginOnly,
            rate_limits: RateLimits {
                ip_per_minute: 600,
                user_per_minute: 1200,
                auth_per_minute: 10,
                trust_forwarded_for: false,
            },
            ws: WsSettings::default(),
        }
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub services: Services,
    pub leptos_options: LeptosOptions,
    pub settings: Arc<HttpSettings>,
    rate_limiters: Arc<rate_limit::RateLimiters>,
    openapi: Arc<utoipa::openapi::OpenApi>,
    routes: Arc<RouteTable>,
    /// The open chat sockets.
    pub connections: Arc<Connections>,
}

impl AppState {
    pub fn new(services: Services, leptos_options: LeptosOptions, settings: HttpSettings) -> Self {
        Self {
            rate_limiters: rate_limit::RateLimiters::new(settings.rate_limits),
            openapi: Arc::new(openapi_document()),
            routes: Arc::new(route_table()),
            connections: Connections::new(services.events.hub().clone()),
            services,
            leptos_options,
            settings: Arc::new(settings),
        }
    }
}

/// Every REST route with its policy, each registered together with its OpenAPI
/// description: the router, the OpenAPI document and the route table are all built
/// from this one list, so no route exists without a policy.
fn api_routes() -> Vec<(RoutePolicy, UtoipaMethodRouter<AppState>)> {
    use RoutePolicy as P;
    vec![
        (P::PUBLIC, routes!(health::live)),
        (P::PUBLIC, routes!(health::ready)),
        (P::PUBLIC, routes!(openapi::document)),
        (P::PUBLIC, routes!(openapi::page)),
        (P::PUBLIC.credentials(), routes!(auth::register)),
        (P::PUBLIC.credentials(), routes!(auth::login)),
        (P::PUBLIC, routes!(auth::refresh)),
        (P::PUBLIC, routes!(auth::logout)),
        (P::USER, routes!(auth::me)),
        (P::USER.credentials(), routes!(auth::change_password)),
        (P::USER, routes!(projects::list, projects::create)),
        (
            P::USER,
            routes!(projects::get, projects::update, projects::delete),
        ),
        (P::USER, routes!(projects::change_status)),
        (P::USER, routes!(projects::stats)),
        (P::USER, routes!(projects::timeline)),
        (P::USER, routes!(projects::feed)),
        (P::USER.upload(), routes!(files::upload, files::list)),
        (P::USER, routes!(files::get, files::update, files::delete)),
        (P::USER, routes!(files::versions)),
        (P::USER, routes!(files::version)),
        (P::USER, routes!(files::diff)),
        (P::USER, routes!(files::restore)),
        (P::USER, routes!(files::search)),
        (P::USER, routes!(files::index_status)),
        (P::USER, routes!(snippets::extract)),
        (P::USER, routes!(chat::list_threads, chat::create_thread)),
        (
            P::USER,
            routes!(chat::get_thread, chat::update_thread, chat::delete_thread),
        ),
        (P::USER, routes!(chat::archive_thread)),
        (P::USER, routes!(chat::unarchive_thread)),
        (P::USER, routes!(chat::list_messages, chat::send_message)),
        (P::USER, routes!(chat::edit_message, chat::delete_message)),
        (P::USER, routes!(chat::message_edits)),
        (P::USER, routes!(chat::stop_message)),
        (P::USER, routes!(chat::regenerate)),
        (P::USER, routes!(ws::upgrade)),
        (P::ADMIN.upload(), routes!(admin::plugins, admin::install)),
        (
            P::ADMIN,
            routes!(admin::plugin, admin::update, admin::delete),
        ),
        (P::ADMIN, routes!(admin::reload)),
    ]
}

fn api_router() -> OpenApiRouter<AppState> {
    api_routes().into_iter().fold(
        OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()),
        |router, (_, routes)| router.routes(routes),
    )
}

/// The OpenAPI document of [`router`]'s REST routes.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut document = api_router().split_for_parts().1;
    openapi::add_common_errors(&mut document);
    document
}

/// Every route [`router`] serves, with its policy: the REST routes, the server
/// functions and the pages.
pub fn route_table() -> RouteTable {
    let mut table = RouteTable::default();
    for (policy, (_, paths, _)) in api_routes() {
        for (path, item) in paths.paths {
            for (method, operation) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                if operation.is_some() {
                    table.insert(method, &path, policy);
                }
            }
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        table.insert(method, path, server_fn_policy(path));
    }
    for route in page_routes() {
        let path = axum_template(route.path());
        let policy = if kiln_app::PUBLIC_PAGES.contains(&path.as_str()) {
            RoutePolicy::PUBLIC
        } else {
            RoutePolicy::USER
        };
        // Every method leptos_axum registers the page for.
        for method in route.methods() {
            let method = match method {
                leptos_router::Method::Get => Method::GET,
                leptos_router::Method::Post => Method::POST,
                leptos_router::Method::Put => Method::PUT,
                leptos_router::Method::Delete => Method::DELETE,
                leptos_router::Method::Patch => Method::PATCH,
            };
            table.insert(method, &path, policy);
        }
    }
    table
}

/// Server functions are declared by their type: the ones a visitor without a session
/// calls (the session a page starts with, logging in, registering, renewing, logging
/// out) are public, those that check a password count against the strict limit, and
/// the plugin administration is for administrators.
fn server_fn_policy(path: &str) -> RoutePolicy {
    use kiln_app::server_fns::{
        AdminPlugins, ChangePassword, CurrentSession, Login, Logout, RefreshSession, Register,
        ReloadPlugins, SetPluginEnabled,
    };
    use leptos::server_fn::ServerFn;
    if [Login::PATH, Register::PATH].contains(&path) {
        RoutePolicy::PUBLIC.credentials()
    } else if [CurrentSession::PATH, RefreshSession::PATH, Logout::PATH].contains(&path) {
        RoutePolicy::PUBLIC
    } else if path == ChangePassword::PATH {
        RoutePolicy::USER.credentials()
    } else if [
        AdminPlugins::PATH,
        SetPluginEnabled::PATH,
        ReloadPlugins::PATH,
    ]
    .contains(&path)
    {
        RoutePolicy::ADMIN
    } else {
        RoutePolicy::USER
    }
}

/// Leptos writes parameters as `:id` and `*rest`; the table, like axum, as `{id}`.
fn axum_template(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/')
        .map(|segment| {
            if let Some(name) = segment.strip_prefix(':') {
                format!("{{{name}}}")
            } else if let Some(name) = segment.strip_prefix('*') {
                format!("{{*{name}}}")
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The app's pages, walked once per process.
///
/// Walking the app sets leptos' "do not load resources" switch, which is one flag for
/// the whole process (`leptos::server::SuppressResourceLoad`, leptos_server 0.8): a
/// page rendered on another thread meanwhile never loaded its data and never answered.
/// Routers built later (each test app builds one) reuse the list instead.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let context = {
        let services = state.services.clone();
        let cookies = state.cookie_policy();
        move || {
            provide_context(services.clone());
            provide_context::<CookiePolicy>(cookies);
        }
    };
    let (api, _) = api_router().split_for_parts();
    Router::new()
        .merge(api)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // Only matched routes: unknown paths stay 404, whoever asks.
        .route_layer(from_fn_with_state(state.clone(), session::require_access))
        .route("/api/{*rest}", any(api_not_found))
        // The not-found page is the app too: with the services, so it knows who is
        // logged in and shows their menu.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context.clone(), shell))
        .layer(from_fn_with_state(
            state.clone(),
            rate_limit::limit_per_user,
        ))
        .layer(from_fn_with_state(state.clone(), session::authenticate))
        .layer(from_fn_with_state(state.clone(), rate_limit::limit_per_ip))
        // One limit per request, by route (see `body_limit`); axum's own default
        // limit is off so that it does not undercut the upload routes.
        .layer(from_fn_with_state(state.clone(), body_limit))
        .layer(DefaultBodyLimit::disable())
        .layer(cors_layer(&state.settings.cors))
        .layer(map_response_with_state(state.clone(), security_headers))
        .layer(from_fn_with_state(
            state.clone(),
            error::complete_error_envelopes,
        ))
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with({
                    let routes = state.routes.clone();
                    move |request: &axum::http::Request<axum::body::Body>| {
                        request_span(&routes, request)
                    }
                }))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    let headers = [
        header::CONTENT_TYPE,
        header::AUTHORIZATION,
        HeaderName::from_static(kiln_types::CSRF_HEADER),
        HeaderName::from_static("x-request-id"),
    ];
    match origins {
        CorsOrigins::SameOriginOnly => CorsLayer::new(),
        CorsOrigins::AnyWithoutCredentials => CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_methods(methods)
            .allow_headers(headers),
        CorsOrigins::List(list) => CorsLayer::new()
            .allow_origin(AllowOrigin::list(
                list.iter()
                    .filter_map(|origin| HeaderValue::from_str(origin).ok()),
            ))
            .allow_methods(methods)
            .allow_headers(headers)
            .allow_credentials(true),
    }
}

/// Headers that keep pages from being framed, sniffed or leaking their URLs, on every
/// response (a handler's own choice wins).
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: Response,
) -> Response {
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(
        header::CONTENT_SECURITY_POLICY,
        "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if state.settings.secure_cookies {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    response
}

/// Every log line of a request carries its id and its route's template (a bounded
/// label: `/api/files/{file_id}`, never the id itself).
fn request_span(
    routes: &RouteTable,
    request: &axum::http::Request<axum::body::Body>,
) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = routes
        .template(request.method(), request.uri().path())
        .unwrap_or("unmatched");
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

/// Caps the request body: the upload limit on upload routes, the JSON limit
/// everywhere else (server functions included, which read their bodies themselves).
/// A declared length over the limit is refused before a byte of the body is read;
/// an undeclared one is cut off when it reaches the limit.
async fn body_limit(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let settings = &state.settings;
    let limit = if state
        .routes
        .takes_uploads(request.method(), request.uri().path())
    {
        settings.upload_body_limit
    } else {
        settings.json_body_limit
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return ApiErrorResponse::from(ApiError::too_large(
            format!("the request body is limited to {limit} bytes"),
            u64::try_from(limit).unwrap_or(u64::MAX),
        ))
        .into_response();
    }
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

async fn api_not_found() -> ApiErrorResponse {
    ApiError::new(ErrorKind::NotFound, "no such API route").into()
}
