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
    AuthService, ChatSettings, PluginRegistry, PluginSettings, Services,
    auth::{RegistrationPolicy, SigningKey, TokenSigner},
    db::{DbConfig, connect},
    files::FileSettings,
    jobs::Supervisor,
};
use kiln_plugin_host::{MANIFEST_FILE, PluginEngine, PluginLimits};
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
    /// The bundled and installed plugin directories, removed with the app.
    pub plugin_dirs: tempfile::TempDir,
    /// The app's background jobs (the indexer), stopped with the app.
    pub jobs: Supervisor,
}

/// The id the snippet extractor under test is bundled as.
pub const SNIPPET_PLUGIN_ID: &str = "test.snippets";

/// Writes `dir/<id>/` as a plugin: `plugins/dist/<file>` plus its manifest.
pub fn write_plugin(dir: &std::path::Path, id: &str, kind: &str, file: &str, extra: &str) {
    let wasm =
        std::fs::read(dist(file)).unwrap_or_else(|e| panic!("{file}: {e} (run `make plugins`)"));
    let plugin_dir = dir.join(id);
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::fs::write(plugin_dir.join("plugin.wasm"), &wasm).unwrap();
    std::fs::write(
        plugin_dir.join(MANIFEST_FILE),
        manifest(id, kind, &wasm, extra),
    )
    .unwrap();
}

/// A manifest for `wasm`.
pub fn manifest(id: &str, kind: &str, wasm: &[u8], extra: &str) -> String {
    format!(
        "id = \"{id}\"\nversion = \"1.0.0\"\nkind = \"{kind}\"\napi = \"{}\"\nwasm = \"plugin.wasm\"\nsha256 = \"{}\"\n{extra}\n",
        kiln_plugin_host::API_VERSION,
        kiln_plugin_host::sha256_hex(wasm),
    )
}

/// A file of `plugins/dist`.
pub fn dist(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/dist")
        .join(file)
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
    files: FileSettings,
    /// Run the background indexer (on by default; off to test a backlog).
    indexing: bool,
    plugin: String,
    /// Further bundled plugins: (id, kind, file in plugins/dist, manifest lines).
    bundled: Vec<(String, String, String, String)>,
    limits: PluginLimits,
    keys: Vec<SigningKey>,
    active: String,
    chat: ChatSettings,
}

impl Builder {
    /// Chat's settings (the language model's endpoint: a fake one in tests).
    pub fn chat(mut self, chat: ChatSettings) -> Self {
        self.chat = chat;
        self
    }

    pub fn settings(mut self, settings: HttpSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Per-file and per-request upload limits (the latter is the upload body limit).
    pub fn upload_limits(mut self, per_file: u64, per_request: u64) -> Self {
        self.files.max_file_bytes = per_file;
        self.files.max_request_bytes = per_request;
        self.settings.upload_body_limit = usize::try_from(per_request).unwrap();
        self
    }

    pub fn files(mut self, files: FileSettings) -> Self {
        self.files = files;
        self
    }

    /// No background indexer: files stay queued.
    pub fn without_indexer(mut self) -> Self {
        self.indexing = false;
        self
    }

    pub fn plugin(mut self, file: &str, limits: PluginLimits) -> Self {
        self.plugin = file.into();
        self.limits = limits;
        self
    }

    /// Bundles one more plugin from `plugins/dist`.
    pub fn bundle(mut self, id: &str, kind: &str, file: &str, manifest_lines: &str) -> Self {
        self.bundled
            .push((id.into(), kind.into(), file.into(), manifest_lines.into()));
        self
    }

    pub fn keys(mut self, keys: Vec<SigningKey>, active: &str) -> Self {
        self.keys = keys;
        self.active = active.into();
        self
    }

    pub async fn build(self) -> TestApp {
        let db = connect(&DbConfig::memory()).await.unwrap();
        kiln_core::migrations::prepare(&db).await.unwrap();
        let plugin_dirs = tempfile::tempdir().unwrap();
        let bundled_dir = plugin_dirs.path().join("bundled");
        write_plugin(
            &bundled_dir,
            SNIPPET_PLUGIN_ID,
            "snippet-extractor",
            &self.plugin,
            "",
        );
        for (id, kind, file, lines) in &self.bundled {
            write_plugin(&bundled_dir, id, kind, file, lines);
        }
        let plugins = PluginRegistry::new(
            shared_engine(),
            PluginSettings {
                bundled_dir: Some(bundled_dir),
                installed_dir: Some(plugin_dirs.path().join("installed")),
                ceiling: self.limits,
            },
            db.clone(),
        );
        plugins.reload().await.unwrap();
        let signer = TokenSigner::new(&self.keys, &self.active, Duration::from_secs(900)).unwrap();
        let auth = AuthService::new(
            db.clone(),
            signer,
            Duration::from_secs(3600),
            RegistrationPolicy::Open,
            Default::default(),
        );
        let services = Services::new(db, auth, plugins, self.files, self.chat.clone());
        let jobs = Supervisor::new();
        if self.indexing {
            services.files.start_indexer(&jobs, true).await.unwrap();
        }
        let leptos_options = LeptosOptions::builder().output_name("kiln").build();
        TestApp {
            router: router(AppState::new(
                services.clone(),
                leptos_options,
                self.settings,
            )),
            services,
            plugin_dirs,
            jobs,
        }
    }
}

/// One engine (and compile cache) for every app of a test binary: compiling the
/// same components for each test would dominate the suite's time.
fn shared_engine() -> PluginEngine {
    static ENGINE: std::sync::OnceLock<PluginEngine> = std::sync::OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let cache = std::env::temp_dir().join("kiln-test-plugin-cache");
            PluginEngine::new().unwrap().with_cache_dir(cache)
        })
        .clone()
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder {
            settings: relaxed(),
            files: FileSettings::default(),
            indexing: true,
            plugin: BUNDLED.into(),
            bundled: Vec::new(),
            limits: PluginLimits::default(),
            keys: vec![test_key("test")],
            active: "test".into(),
            chat: ChatSettings::default(),
        }
    }

    pub async fn new() -> Self {
        Self::builder().build().await
    }

    /// Serves the router on a real socket (WebSockets need one); stops with the test's
    /// runtime.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self
            .router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
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
