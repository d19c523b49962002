//! An OpenAI-compatible server for tests: real HTTP and SSE on a local port, scripted
//! per test (what to answer, per model or in order), recording what it was asked.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
};
use futures_util::stream;
use serde_json::{Value, json};

/// One answer.
#[derive(Debug, Clone)]
pub enum Script {
    /// A normal stream of these pieces, `delay` before each, then `[DONE]`.
    Stream {
        pieces: Vec<String>,
        delay: Duration,
    },
    /// These pieces, then the connection is aborted (no `[DONE]`).
    CutAfter(Vec<String>),
    /// These pieces, then silence with the connection open.
    StallAfter(Vec<String>),
    /// An error status with an OpenAI-style body, and `Retry-After` seconds.
    Error {
        status: u16,
        code: Option<String>,
        message: String,
        retry_after: Option<u64>,
    },
    /// Headers never come.
    Hang,
}

impl Script {
    pub fn text(pieces: &[&str]) -> Self {
        Self::Stream {
            pieces: pieces.iter().map(|p| (*p).to_owned()).collect(),
            delay: Duration::ZERO,
        }
    }

    pub fn slow(pieces: &[&str], delay: Duration) -> Self {
        Self::Stream {
            pieces: pieces.iter().map(|p| (*p).to_owned()).collect(),
            delay,
        }
    }

    pub fn error(status: u16, code: Option<&str>, message: &str) -> Self {
        Self::Error {
            status,
            code: code.map(str::to_owned),
            message: message.into(),
            retry_after: None,
        }
    }
}

#[derive(Default)]
struct Shared {
    /// Answers for a model, in order; the general queue when a model has none.
    by_model: Mutex<HashMap<String, VecDeque<Script>>>,
    queue: Mutex<VecDeque<Script>>,
    /// Every request body, in order.
    requests: Mutex<Vec<Value>>,
    /// Streams whose body the client dropped before the end.
    dropped: AtomicUsize,
}

#[derive(Clone)]
pub struct FakeLlm {
    /// `http://127.0.0.1:<port>/v1`, for `KILN_LLM_BASE_URL`.
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeLlm {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/v1"),
            shared,
        }
    }

    /// The next answer to any model without its own script.
    pub fn then(&self, script: Script) -> &Self {
        self.shared.queue.lock().unwrap().push_back(script);
        self
    }

    /// The next answer to `model`.
    pub fn for_model(&self, model: &str, script: Script) -> &Self {
        self.shared
            .by_model
            .lock()
            .unwrap()
            .entry(model.into())
            .or_default()
            .push_back(script);
        self
    }

    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The models asked, in order.
    pub fn models(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| r["model"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Streams the client hung up on before they ended.
    pub fn dropped_streams(&self) -> usize {
        self.shared.dropped.load(Ordering::SeqCst)
    }
}

fn chunk(model: &str, piece: &str) -> Bytes {
    let json = json!({
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]
    });
    Bytes::from(format!("data: {json}\n\n"))
}

/// Counts the stream as dropped unless it ran to its end.
struct DropGuard {
    shared: Arc<Shared>,
    finished: bool,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

enum Tail {
    Done,
    Cut,
    Stall,
}

async fn completions(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    shared.requests.lock().unwrap().push(body);
    let script = shared
        .by_model
        .lock()
        .unwrap()
        .get_mut(&model)
        .and_then(VecDeque::pop_front)
        .or_else(|| shared.queue.lock().unwrap().pop_front())
        .unwrap_or_else(|| Script::text(&["Hello", " from ", "the fake model."]));
    let (pieces, delay, tail) = match script {
        Script::Error {
            status,
            code,
            message,
            retry_after,
        } => {
            let mut response = (
                StatusCode::from_u16(status).unwrap(),
                Json(json!({"error": {"message": message, "type": "error", "code": code}})),
            )
                .into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", seconds.to_string().parse().unwrap());
            }
            return response;
        }
        Script::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
        Script::Stream { pieces, delay } => (pieces, delay, Tail::Done),
        Script::CutAfter(pieces) => (pieces, Duration::ZERO, Tail::Cut),
        Script::StallAfter(pieces) => (pieces, Duration::ZERO, Tail::Stall),
    };
    let guard = DropGuard {
        shared,
        finished: false,
    };
    let state = (pieces.into_iter(), guard, Some(tail));
    let body = stream::unfold(state, move |(mut pieces, mut guard, mut tail)| {
        let model = model.clone();
        async move {
            if let Some(piece) = pieces.next() {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                return Some((
                    Ok::<_, std::io::Error>(chunk(&model, &piece)),
                    (pieces, guard, tail),
                ));
            }
            match tail.take()? {
                Tail::Done => {
                    guard.finished = true;
                    Some((Ok(Bytes::from("data: [DONE]\n\n")), (pieces, guard, None)))
                }
                // An error aborts the connection mid-body, as a crashed server would.
                Tail::Cut => {
                    guard.finished = true;
                    Some((Err(std::io::Error::other("cut")), (pieces, guard, None)))
                }
                Tail::Stall => {
                    std::future::pending::<()>().await;
                    None
                }
            }
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}
