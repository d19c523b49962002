//! Kiln's router driven in-process: real services, SurrealDB `mem://`, real plugins.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use kiln_core::{
    AuthService, Services, SnippetService,
    auth::{RegistrationPolicy, SigningKey, TokenSigner},
    db::{DbConfig, connect},
    migrations::{Migrator, bundled},
};
use kiln_plugin_host::{PluginEngine, PluginLimits, SnippetExtractorPlugin};
use kiln_server::http::{AppState, HttpSettings, RateLimits, router};
use leptos::prelude::LeptosOptions;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const BUNDLED: &str = "kiln_snippet_extractor.wasm";

/// A test signing key (`kid` "test").
pub fn test_key(kid: &str) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        secret: format!("{kid}-0123456789abcdef0123456789abcdef").into_bytes(),
    }
}

/// Settings whose rate limits no ordinary test reaches.
pub fn relaxed() -> HttpSettings {
    HttpSettings {
        rate_limits: RateLimits {
            ip_per_minute: 100_000,
            user_per_minute: 100_000,
            auth_per_minute: 100_000,
            trust_forwarded_for: false,
        },
        ..HttpSettings::default()
    }
}

pub struct TestApp {
    pub router: Router,
    /// The same services the router uses, to look behind the API.
    pub services: Services,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// A registered user and their credentials.
pub struct Account {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
    pub csrf_token: String,
    /// The `Cookie` header a browser would send.
    pub cookies: String,
}

pub struct Builder {
    settings: HttpSettings,
    plugin: String,
    limits: PluginLimits,
    keys: Vec<SigningKey>,
    active: String,
}

impl Builder {
    pub fn settings(mut self, settings: HttpSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn plugin(mut self, file: &str, limits: PluginLimits) -> Self {
        self.plugin = file.into();
        self.limits = limits;
        self
    }

    pub fn keys(mut self, keys: Vec<SigningKey>, active: &str) -> Self {
        self.keys = keys;
        self.active = active.into();
        self
    }

    pub async fn build(self) -> TestApp {
        let db = connect(&DbConfig::memory()).await.unwrap();
        Migrator::new(&db, bundled()).up().await.unwrap();
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../plugins/dist")
            .join(&self.plugin);
        let wasm = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `make plugins`)", path.display()));
        let engine = PluginEngine::new().unwrap();
        let plugin =
            SnippetExtractorPlugin::load(&engine, &self.plugin, &wasm, self.limits).unwrap();
        let signer = TokenSigner::new(&self.keys, &self.active, Duration::from_secs(900)).unwrap();
        let auth = AuthService::new(
            db.clone(),
            signer,
            Duration::from_secs(3600),
            RegistrationPolicy::Open,
        );
        let services = Services::new(db, auth, SnippetService::new(Some(plugin)));
        let leptos_options = LeptosOptions::builder().output_name("kiln").build();
        TestApp {
            router: router(AppState::new(
                services.clone(),
                leptos_options,
                self.settings,
            )),
            services,
        }
    }
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder {
            settings: relaxed(),
            plugin: BUNDLED.into(),
            limits: PluginLimits::default(),
            keys: vec![test_key("test")],
            active: "test".into(),
        }
    }

    pub async fn new() -> Self {
        Self::builder().build().await
    }

    /// Sends `request` from 127.0.0.1 (as the real server would tell the handlers).
    pub async fn send(&self, mut request: Request<Body>) -> Reply {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        assert!(
            headers.contains_key("x-request-id"),
            "every response has a request id"
        );
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn register(&self, email: &str) -> Account {
        let reply = self
            .send(post_json(
                "/api/auth/register",
                json!({"email": email, "password": "correct horse battery"}),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        account(&reply)
    }
}

/// The credentials a login-like reply hands out.
pub fn account(reply: &Reply) -> Account {
    let cookie = |name: &str| {
        reply
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.strip_prefix(&format!("{name}=")))
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_default()
            .to_owned()
    };
    let csrf_token = cookie("kiln_csrf");
    Account {
        id: reply.body["user"]["id"].as_str().unwrap_or_default().into(),
        access_token: reply.body["access_token"]
            .as_str()
            .unwrap_or_default()
            .into(),
        refresh_token: reply.body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .into(),
        cookies: format!(
            "kiln_access={}; kiln_refresh={}; kiln_csrf={csrf_token}",
            cookie("kiln_access"),
            cookie("kiln_refresh")
        ),
        csrf_token,
    }
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub fn post_json(uri: &str, body: Value) -> Request<Body> {
    post_raw(uri, body.to_string())
}

pub fn post_raw(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

/// `request` as an API client: `Authorization: Bearer`.
pub fn bearer(mut request: Request<Body>, account: &Account) -> Request<Body> {
    let value = format!("Bearer {}", account.access_token);
    request
        .headers_mut()
        .insert(header::AUTHORIZATION, value.parse().unwrap());
    request
}

/// `request` as a browser: the session cookies, no CSRF header.
pub fn cookies(mut request: Request<Body>, account: &Account) -> Request<Body> {
    request
        .headers_mut()
        .insert(header::COOKIE, account.cookies.parse().unwrap());
    request
}

/// `request` as the Kiln page: cookies and the CSRF header.
pub fn browser(request: Request<Body>, account: &Account) -> Request<Body> {
    let mut request = cookies(request, account);
    request
        .headers_mut()
        .insert("x-csrf-token", account.csrf_token.parse().unwrap());
    request
}
