//! Chat figures, printed (never asserted): WebSocket fan-out latency with and without
//! clients that stop reading, the per-token cost of the whole path (LLM stream → run →
//! hub → socket) against reading the same fake server directly, memory per idle
//! socket, opening and paging a 10,000-message thread, and the hydration bundle.
//!
//! `make bench-chat`. Everything runs in this process on loopback: the fake
//! OpenAI-compatible server, Kiln's router, and the clients.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    response::Response,
    routing,
};
use futures_util::{SinkExt, StreamExt, stream};
use kiln_core::{
    AuthService, ChatSettings, PluginRegistry, PluginSettings, Services,
    auth::{RegistrationPolicy, SigningKey, TokenSigner},
    chat::LlmSettings,
    db::{DbConfig, connect},
    files::FileSettings,
    hub::Topic,
};
use kiln_plugin_host::{PluginEngine, PluginLimits};
use kiln_server::http::{AppState, HttpSettings, RateLimits, WsSettings, router};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Tokens each fake reply streams.
const TOKENS: usize = 500;

#[tokio::main]
async fn main() {
    let llm = fake_llm().await;
    let (addr, services) = kiln(&llm).await;
    let http = reqwest::Client::new();
    let token = register(&http, addr).await;
    let project = post(
        &http,
        addr,
        &token,
        "/api/projects",
        json!({"name": "bench"}),
    )
    .await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    println!("chat bench (in one process, loopback; {TOKENS}-token replies)\n");

    for sockets in [100, 1000] {
        let thread = new_thread(&http, addr, &token, &project).await;
        let baseline = fan_out(addr, &token, &thread, &services, sockets, 0).await;
        let thread = new_thread(&http, addr, &token, &project).await;
        let stalled = fan_out(addr, &token, &thread, &services, sockets, sockets / 10).await;
        println!(
            "fan-out, {sockets:>4} sockets: p50 {:>7.2} ms  p99 {:>7.2} ms | 10 % not reading: p50 {:>7.2} ms  p99 {:>7.2} ms  (p99 ratio {:.2})",
            baseline.0,
            baseline.1,
            stalled.0,
            stalled.1,
            stalled.1 / baseline.1.max(f64::EPSILON)
        );
    }

    let direct = direct_tokens_per_second(&http, &llm, 100).await;
    let through = kiln_tokens_per_second(&http, addr, &token, &project, 100).await;
    println!(
        "\n100 concurrent streams: read directly {direct:>9.0} tokens/s | through Kiln to a socket {through:>9.0} tokens/s  (Kiln's overhead per token: {:.1} µs, {:.2}× the direct time)",
        (1.0 / through - 1.0 / direct) * 1e6 * 100.0,
        direct / through
    );

    let thread = new_thread(&http, addr, &token, &project).await;
    let before = rss_kib();
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(open(addr, &token, &thread).await);
    }
    let after = rss_kib();
    println!(
        "\nmemory per idle socket (both ends, one process): {:.1} KiB",
        (after.saturating_sub(before)) as f64 / 1000.0
    );
    drop(idle);

    long_thread(&http, addr, &token, &project, &services).await;
    bundle();
}

/// 600 broadcasts (more than a socket's queue holds) to `sockets` sockets, `stalled` of
/// which never read, paced at 50,000 deliveries a second (the clients share this
/// process's two cores with the server): (p50, p99) of the readers' latency, in ms.
async fn fan_out(
    addr: SocketAddr,
    token: &str,
    thread: &str,
    services: &Services,
    sockets: usize,
    stalled: usize,
) -> (f64, f64) {
    const BROADCASTS: usize = 600;
    let start = Instant::now();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    let mut parked = Vec::new();
    for index in 0..sockets {
        let socket = open(addr, token, thread).await;
        if index < stalled {
            parked.push(socket);
            continue;
        }
        let latencies = latencies.clone();
        readers.push(tokio::spawn(async move {
            let mut socket = socket;
            let mut seen = 0;
            while seen < BROADCASTS {
                let Some(Ok(Message::Text(text))) = socket.next().await else {
                    break;
                };
                let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                if let Some(sent) = frame["sent_ns"].as_u64() {
                    let now = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    latencies.lock().unwrap().push(now.saturating_sub(sent));
                    seen += 1;
                }
            }
        }));
    }
    let hub = services.events.hub().clone();
    let topic = Topic::Thread(thread.to_owned());
    let mut tick = tokio::time::interval(Duration::from_micros(20 * sockets as u64));
    for _ in 0..BROADCASTS {
        tick.tick().await;
        let sent = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        hub.publish(
            "bench",
            vec![topic.clone()],
            &json!({"type": "bench", "sent_ns": sent}),
        );
    }
    for reader in readers {
        let _ = tokio::time::timeout(Duration::from_secs(60), reader).await;
    }
    drop(parked);
    let mut all = std::mem::take(&mut *latencies.lock().unwrap());
    all.sort_unstable();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1e6
    };
    (at(0.5), at(0.99))
}

async fn direct_tokens_per_second(http: &reqwest::Client, llm: &str, streams: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..streams {
        let http = http.clone();
        let url = format!("{llm}/chat/completions");
        tasks.push(tokio::spawn(async move {
            let mut response = http
                .post(url)
                .json(&json!({"model": "m", "messages": [], "stream": true}))
                .send()
                .await
                .ok()?;
            // Parsed as a client would: each event's JSON.
            let (mut tokens, mut buffer) = (0, Vec::new());
            while let Ok(Some(chunk)) = response.chunk().await {
                buffer.extend_from_slice(&chunk);
                while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
                    let event: Vec<u8> = buffer.drain(..end + 2).collect();
                    if let Some(data) = event.strip_prefix(b"data: ")
                        && serde_json::from_slice::<Value>(data).is_ok()
                    {
                        tokens += 1;
                    }
                }
            }
            Some(tokens)
        }));
    }
    let mut tokens = 0;
    for task in tasks {
        tokens += task.await.ok().flatten().unwrap_or(0);
    }
    tokens as f64 / started.elapsed().as_secs_f64()
}

async fn kiln_tokens_per_second(
    http: &reqwest::Client,
    addr: SocketAddr,
    token: &str,
    project: &str,
    streams: usize,
) -> f64 {
    let mut sockets = Vec::new();
    for _ in 0..streams {
        let thread = new_thread(http, addr, token, project).await;
        sockets.push(open(addr, token, &thread).await);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut socket in sockets {
        tasks.push(tokio::spawn(async move {
            let command = json!({"type": "send_message", "content": "go"}).to_string();
            socket.send(Message::Text(command.into())).await.ok()?;
            let mut tokens = 0;
            while let Some(Ok(Message::Text(text))) = socket.next().await {
                let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                if frame["type"] == "stream_chunk"
                    && !frame["delta"].as_str().unwrap_or("").is_empty()
                {
                    tokens += 1;
                }
                if frame["type"] == "error" {
                    eprintln!("a reply failed: {}", frame["error"]["detail"]);
                }
                if frame["type"] == "message_updated" && frame["message"]["role"] == "assistant" {
                    break;
                }
            }
            Some(tokens)
        }));
    }
    let mut tokens = 0;
    for task in tasks {
        tokens += task.await.ok().flatten().unwrap_or(0);
    }
    tokens as f64 / started.elapsed().as_secs_f64()
}

/// 10,000 messages (5,000 questions and answers), then: the newest page, and every
/// page back to the start, over REST.
async fn long_thread(
    http: &reqwest::Client,
    addr: SocketAddr,
    token: &str,
    project: &str,
    services: &Services,
) {
    let thread = new_thread(http, addr, token, project).await;
    // Seeded in the database directly: the bench is about reading, not 5,000 replies.
    for batch in 0..50_u64 {
        let statements: String = (0..200_u64)
            .map(|n| {
                let role = if n % 2 == 0 { "user" } else { "assistant" };
                format!(
                    "CREATE message CONTENT {{ thread: type::record('thread', $thread), role: '{role}', \
                     content: 'A message about the code, of an ordinary length for a chat.', \
                     created_at: time::now() + {}ms }} RETURN NONE;\n",
                    batch * 200 + n
                )
            })
            .collect();
        let seeded = services
            .db
            .query(statements)
            .bind(("thread", thread.clone()))
            .await;
        if let Ok(mut response) = seeded {
            for (_, error) in response.take_errors() {
                eprintln!("seeding failed: {error}");
            }
        }
    }
    let url = |query: &str| format!("http://{addr}/api/threads/{thread}/messages?limit=100{query}");
    let started = Instant::now();
    let first = get(http, &url(""), token).await;
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    if first["items"].as_array().is_none_or(Vec::is_empty) {
        eprintln!("the long thread reads back empty: {first}");
    }
    let mut pages = 1;
    let mut seen = first["items"].as_array().map_or(0, Vec::len);
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    let walk = Instant::now();
    while let Some(next) = cursor {
        let page = get(http, &url(&format!("&after={next}")), token).await;
        seen += page["items"].as_array().map_or(0, Vec::len);
        pages += 1;
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    println!(
        "\n10,000-message thread: newest page (100) in {open_ms:.1} ms; to its start in {pages} pages, {:.0} ms ({seen} messages)",
        walk.elapsed().as_secs_f64() * 1e3
    );
}

/// The browser's download: the app's frame (`kiln.wasm` and its scripts), then each
/// page's own chunks (`__wasm_split_manifest.json`: page → chunks), gzipped one file
/// at a time as they travel.
fn bundle() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    let gzipped = |name: &str| -> Option<(usize, usize)> {
        let bytes = std::fs::read(dir.join(name)).ok()?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gzip, &bytes).ok()?;
        Some((bytes.len(), gzip.finish().ok()?.len()))
    };
    let Some((wasm, wasm_gz)) = gzipped("kiln.wasm") else {
        println!("\nhydration bundle: not built (run `make build`)");
        return;
    };
    let scripts: usize = [
        "kiln.js",
        "__wasm_split.______________________.js",
        "kiln.css",
    ]
    .iter()
    .filter_map(|name| gzipped(name))
    .map(|(_, gz)| gz)
    .sum();
    let frame = wasm_gz + scripts;
    println!(
        "\nhydration bundle: kiln.wasm {} KB, {} KB gzipped; the frame with its js and css {} KB gzipped",
        wasm / 1000,
        wasm_gz / 1000,
        frame / 1000
    );
    let manifest: std::collections::BTreeMap<String, Vec<String>> =
        std::fs::read_to_string(dir.join("__wasm_split_manifest.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
    for (split, chunks) in manifest
        .iter()
        .filter(|(name, _)| name.contains("_route_view"))
    {
        let page = split
            .trim_start_matches("__")
            .split("_route_view")
            .next()
            .unwrap_or(split);
        let (raw, gz) = chunks
            .iter()
            .filter_map(|chunk| gzipped(&format!("{chunk}.wasm")))
            .fold((0, 0), |(raw, gz), (r, g)| (raw + r, gz + g));
        println!(
            "  page {page:<14} {:>4} chunks, {:>4} KB ({:>3} KB gzipped); first load with the frame {:>3} KB gzipped",
            chunks.len(),
            raw / 1000,
            gz / 1000,
            (frame + gz) / 1000
        );
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn open(addr: SocketAddr, token: &str, thread: &str) -> Socket {
    let mut request = format!("ws://{addr}/api/threads/{thread}/ws")
        .into_client_request()
        .unwrap_or_else(|error| panic!("{error}"));
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.headers_mut().insert("authorization", value);
    }
    tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|error| panic!("socket: {error}"))
        .0
}

async fn post(
    http: &reqwest::Client,
    addr: SocketAddr,
    token: &str,
    path: &str,
    body: Value,
) -> Value {
    http.post(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|error| panic!("{path}: {error}"))
        .json()
        .await
        .unwrap_or_default()
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|error| panic!("{url}: {error}"))
        .json()
        .await
        .unwrap_or_default()
}

async fn register(http: &reqwest::Client, addr: SocketAddr) -> String {
    let reply: Value = http
        .post(format!("http://{addr}/api/auth/register"))
        .json(&json!({"email": "bench@example.org", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap_or_else(|error| panic!("register: {error}"))
        .json()
        .await
        .unwrap_or_default();
    reply["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn new_thread(
    http: &reqwest::Client,
    addr: SocketAddr,
    token: &str,
    project: &str,
) -> String {
    post(
        http,
        addr,
        token,
        &format!("/api/projects/{project}/threads"),
        json!({}),
    )
    .await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An OpenAI-compatible server streaming [`TOKENS`] tokens at once: its base URL.
async fn fake_llm() -> String {
    async fn completions(Json(body): Json<Value>) -> Response {
        let model = body["model"].as_str().unwrap_or_default().to_owned();
        let chunks = (0..TOKENS).map(move |n| {
            let json = json!({
                "id": "b", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [{"index": 0, "delta": {"content": format!("t{n} ")}, "finish_reason": null}]
            });
            Ok::<_, std::io::Error>(Bytes::from(format!("data: {json}\n\n")))
        });
        let done = std::iter::once(Ok(Bytes::from("data: [DONE]\n\n")));
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(stream::iter(chunks.chain(done))))
            .unwrap_or_default()
    }
    let app = Router::new().route("/v1/chat/completions", routing::post(completions));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|error| panic!("{error}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

/// Kiln on an in-memory database with the bundled plugins and limits no bench hits.
async fn kiln(llm: &str) -> (SocketAddr, Services) {
    let db = connect(&DbConfig::memory())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    kiln_core::migrations::prepare(&db)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let installed = std::env::temp_dir().join(format!("kiln-bench-chat-{}", std::process::id()));
    let plugins = PluginRegistry::new(
        PluginEngine::new().unwrap_or_else(|error| panic!("{error}")),
        PluginSettings {
            bundled_dir: Some(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/dist"),
            ),
            installed_dir: Some(installed),
            ceiling: PluginLimits::default(),
        },
        db.clone(),
    );
    plugins.reload().await.ok();
    let key = SigningKey {
        kid: "bench".into(),
        secret: b"bench-0123456789abcdef0123456789abcdef".to_vec(),
    };
    let signer = TokenSigner::new(&[key], "bench", Duration::from_secs(3600))
        .unwrap_or_else(|error| panic!("{error}"));
    let auth = AuthService::new(
        db.clone(),
        signer,
        Duration::from_secs(3600),
        RegistrationPolicy::Open,
        Default::default(),
    );
    let chat = ChatSettings {
        llm: LlmSettings {
            base_url: Some(llm.to_owned()),
            ..LlmSettings::default()
        },
        ..ChatSettings::default()
    };
    let services = Services::new(db, auth, plugins, FileSettings::default(), chat);
    let settings = HttpSettings {
        rate_limits: RateLimits {
            ip_per_minute: 1_000_000,
            user_per_minute: 1_000_000,
            auth_per_minute: 1_000,
            trust_forwarded_for: false,
        },
        ws: WsSettings {
            max_sockets_per_user: 5000,
            commands_per_minute: 100_000,
            ..WsSettings::default()
        },
        ..HttpSettings::default()
    };
    let options = leptos::prelude::LeptosOptions::builder()
        .output_name("kiln")
        .build();
    let app = router(AppState::new(services.clone(), options, settings))
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|error| panic!("{error}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, services)
}
