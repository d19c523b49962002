//! Chat end to end: threads and messages over REST, the thread's WebSocket, and
//! replies streamed from an OpenAI-compatible server (a fake one, over real HTTP and
//! SSE), against the real router, database and plugins.

use std::{net::SocketAddr, time::Duration};

use axum::http::StatusCode;
use futures_util::{SinkExt, StreamExt};
use kiln_core::{ChatSettings, chat::LlmSettings};
use kiln_server::http::{HttpSettings, WsSettings};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode},
};

use crate::{
    files::{call, indexed, project, upload},
    support::{
        app::{Account, TestApp, relaxed},
        fake_llm::{FakeLlm, Script},
    },
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How long any single expected frame may take before the test fails (a guard, not
/// a synchronisation: every wait below is for a frame or a state).
const FRAME_WAIT: Duration = Duration::from_secs(20);

fn chat_settings(llm: &FakeLlm, model: &str, fallbacks: &[&str]) -> ChatSettings {
    ChatSettings {
        llm: LlmSettings {
            base_url: Some(llm.url.clone()),
            api_key: Some("sk-test-secret".into()),
            model: model.into(),
            fallback_models: fallbacks.iter().map(|m| (*m).to_owned()).collect(),
            first_token_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(5),
            ..LlmSettings::default()
        },
        ..ChatSettings::default()
    }
}

async fn app_with(llm: &FakeLlm, ws: WsSettings) -> TestApp {
    TestApp::builder()
        .chat(chat_settings(llm, "big", &[]))
        .settings(HttpSettings { ws, ..relaxed() })
        .build()
        .await
}

async fn thread(app: &TestApp, user: &Account, project: &str) -> String {
    let reply = call(
        app,
        user,
        "POST",
        &format!("/api/projects/{project}/threads"),
        Some(json!({"title": "About the code"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_owned()
}

enum Credentials<'a> {
    Bearer(&'a Account),
    Cookie(&'a Account, &'a str),
    None,
}

/// Opens the thread's socket, or the HTTP status and JSON body it was refused with.
async fn connect(
    addr: SocketAddr,
    thread: &str,
    credentials: Credentials<'_>,
    query: &str,
) -> Result<Socket, (u16, Value)> {
    let mut request = format!("ws://{addr}/api/threads/{thread}/ws{query}")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    match credentials {
        Credentials::Bearer(account) => {
            headers.insert(
                "authorization",
                format!("Bearer {}", account.access_token).parse().unwrap(),
            );
        }
        Credentials::Cookie(account, origin) => {
            headers.insert("cookie", account.cookies.parse().unwrap());
            headers.insert("origin", origin.parse().unwrap());
        }
        Credentials::None => {}
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|bytes| serde_json::from_slice(bytes).unwrap_or(Value::Null))
                .unwrap_or(Value::Null);
            Err((response.status().as_u16(), body))
        }
        Err(other) => panic!("connecting failed: {other}"),
    }
}

async fn open(addr: SocketAddr, thread: &str, user: &Account) -> Socket {
    connect(addr, thread, Credentials::Bearer(user), "")
        .await
        .unwrap_or_else(|(status, body)| panic!("refused with {status}: {body}"))
}

/// The next JSON frame (pings are answered by the client library as it reads).
async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(FRAME_WAIT, socket.next())
            .await
            .expect("no frame arrived in time")
            .expect("the socket closed")
            .expect("the socket failed");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// Frames until (and including) the first that `done` accepts.
async fn frames_until(socket: &mut Socket, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = next_frame(socket).await;
        let last = done(&frame);
        frames.push(frame);
        if last {
            return frames;
        }
    }
}

async fn command(socket: &mut Socket, command: Value) {
    socket
        .send(Message::Text(command.to_string().into()))
        .await
        .unwrap();
}

fn is_final_update(frame: &Value, message_id: &str) -> bool {
    frame["type"] == "message_updated"
        && frame["message"]["id"] == message_id
        && frame["message"]["status"] != "streaming"
}

/// The text of `frames`' chunks of `message_id`, checking `seq` runs 0, 1, 2… once each.
fn streamed_text(frames: &[Value], message_id: &str, first_seq: u64) -> String {
    let chunks: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "stream_chunk" && f["message_id"] == message_id)
        .collect();
    for (index, chunk) in chunks.iter().enumerate() {
        assert_eq!(chunk["seq"], first_seq + index as u64, "{frames:#?}");
    }
    assert!(
        chunks.last().is_some_and(|c| c["is_final"] == true),
        "{frames:#?}"
    );
    chunks
        .iter()
        .map(|c| c["delta"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn threads_are_created_renamed_archived_and_deleted_with_counters_and_timeline() {
    let llm = FakeLlm::start().await;
    let app = app_with(&llm, WsSettings::default()).await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let untitled = call(
        &app,
        &alice,
        "POST",
        &format!("/api/projects/{project}/threads"),
        Some(json!({})),
    )
    .await;
    assert_eq!(untitled.body["title"], "New chat");
    let thread = thread(&app, &alice, &project).await;

    let renamed = call(
        &app,
        &alice,
        "PATCH",
        &format!("/api/threads/{thread}"),
        Some(json!({"title": "  Retries  "})),
    )
    .await;
    assert_eq!(renamed.body["title"], "Retries", "{}", renamed.text);
    let too_long = call(
        &app,
        &alice,
        "PATCH",
        &format!("/api/threads/{thread}"),
        Some(json!({"title": "x".repeat(201)})),
    )
    .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);

    let archived = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/archive"),
        None,
    )
    .await;
    assert!(
        archived.body["archived_at"].is_string(),
        "{}",
        archived.text
    );
    let active = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/threads"),
        None,
    )
    .await;
    assert_eq!(active.body["items"].as_array().unwrap().len(), 1);
    let listed = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/threads?archived=true"),
        None,
    )
    .await;
    assert_eq!(listed.body["items"][0]["id"], thread.as_str());
    let refused = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/messages"),
        Some(json!({"content": "hi"})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["code"], "archived");
    let unarchived = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/unarchive"),
        None,
    )
    .await;
    assert!(unarchived.body["archived_at"].is_null());

    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["thread_count"], 2, "{}", stats.text);
    let deleted = call(
        &app,
        &alice,
        "DELETE",
        &format!("/api/threads/{thread}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = call(&app, &alice, "GET", &format!("/api/threads/{thread}"), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["thread_count"], 1);

    let timeline = call(
        &app,
        &alice,
        "GET",
        &format!(
            "/api/projects/{project}/timeline?type=thread_created,thread_archived,thread_deleted"
        ),
        None,
    )
    .await;
    let kinds: Vec<&str> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "thread_deleted",
            "thread_archived",
            "thread_archived",
            "thread_created",
            "thread_created"
        ]
    );

    let bob = app.register("bob@example.com").await;
    let other = call(
        &app,
        &bob,
        "GET",
        &format!("/api/threads/{}", untitled.body["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reply_streams_in_order_grounded_in_the_code_and_is_saved_whole() {
    let llm = FakeLlm::start().await;
    llm.then(Script::text(&[
        "Retries ",
        "happen in ",
        "`upload_with_retry`.",
    ]));
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let source = b"fn upload_with_retry(attempts: u32) {\n    // retry failed uploads\n}\n";
    upload(&app, &alice, &project, &[("src/upload.rs", source)]).await;
    indexed(&app, &alice, &project).await;
    let thread = thread(&app, &alice, &project).await;
    let mut socket = open(addr, &thread, &alice).await;

    command(&mut socket, json!({"type": "send_message", "command_id": "c1", "content": "Where do we retry failed uploads?"})).await;
    let mut reply_id = String::new();
    let frames = frames_until(&mut socket, |frame| {
        frame["type"] == "message_updated" && frame["message"]["status"] == "complete"
    })
    .await;
    let ack = frames.iter().find(|f| f["type"] == "ack").expect("an ack");
    assert_eq!(ack["command_id"], "c1");
    assert_eq!(
        ack["message"]["content"],
        "Where do we retry failed uploads?"
    );
    reply_id.push_str(ack["reply"]["id"].as_str().unwrap());
    assert_eq!(
        streamed_text(&frames, &reply_id, 0),
        "Retries happen in `upload_with_retry`."
    );
    let done = frames.last().unwrap();
    assert_eq!(
        done["message"]["content"],
        "Retries happen in `upload_with_retry`."
    );
    assert_eq!(done["message"]["model"], "big");
    let citation = &done["message"]["citations"][0];
    assert_eq!(citation["path"], "src/upload.rs", "{done:#}");
    assert_eq!(citation["version"], 1);
    assert_eq!(citation["changed"], false);

    // The model was sent the code as quoted data, and the question.
    let request = &llm.requests()[0];
    let prompt = request["messages"].to_string();
    assert!(
        prompt.contains("upload_with_retry") && prompt.contains("quoted data"),
        "{prompt}"
    );
    assert_eq!(request["stream"], true);

    // A reload shows the same.
    let page = call(
        &app,
        &alice,
        "GET",
        &format!("/api/threads/{thread}/messages"),
        None,
    )
    .await;
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], reply_id.as_str());
    assert_eq!(items[0]["parent_id"], items[1]["id"]);
    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["message_count"], 2);
    assert!(stats.body["last_chat_at"].is_string());

    // The file changes: the citation says so, and still names the version it quoted.
    let file_id = citation["file_id"].as_str().unwrap();
    let edit = call(
        &app,
        &alice,
        "PUT",
        &format!("/api/files/{file_id}"),
        Some(json!({"content": "fn other() {}\n", "version": 1})),
    )
    .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text);
    let page = call(
        &app,
        &alice,
        "GET",
        &format!("/api/threads/{thread}/messages"),
        None,
    )
    .await;
    assert_eq!(page.body["items"][0]["citations"][0]["changed"], true);
    assert_eq!(page.body["items"][0]["citations"][0]["version"], 1);
}

#[tokio::test]
async fn the_upgrade_is_authenticated_and_authorised_first() {
    let llm = FakeLlm::start().await;
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;

    let (status, body) = connect(addr, &thread, Credentials::None, "")
        .await
        .err()
        .unwrap();
    assert_eq!((status, body["type"].as_str()), (401, Some("unauthorized")));
    let query = format!("?token={}", alice.access_token);
    let (status, _) = connect(addr, &thread, Credentials::None, &query)
        .await
        .err()
        .unwrap();
    assert_eq!(status, 401, "a token in the query string is ignored");
    let (status, body) = connect(addr, &thread, Credentials::Bearer(&bob), "")
        .await
        .err()
        .unwrap();
    assert_eq!((status, body["type"].as_str()), (403, Some("forbidden")));
    let (status, _) = connect(addr, "nope", Credentials::Bearer(&alice), "")
        .await
        .err()
        .unwrap();
    assert_eq!(status, 404);
    let (status, body) = connect(
        addr,
        &thread,
        Credentials::Cookie(&alice, "https://evil.example"),
        "",
    )
    .await
    .err()
    .unwrap();
    assert_eq!((status, body["type"].as_str()), (403, Some("forbidden")));
    let own = format!("http://{addr}");
    let mut socket = connect(addr, &thread, Credentials::Cookie(&alice, &own), "")
        .await
        .unwrap();
    command(&mut socket, json!({"type": "typing", "command_id": "t"})).await;
    let frames = frames_until(&mut socket, |f| f["type"] == "ack").await;
    assert_eq!(frames.last().unwrap()["command_id"], "t");
}

#[tokio::test]
async fn two_sockets_each_get_every_event_once_even_after_one_leaves() {
    let llm = FakeLlm::start().await;
    let pieces: Vec<String> = (0..40).map(|n| format!("w{n} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    llm.then(Script::slow(&pieces, Duration::from_millis(5)));
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut first = open(addr, &thread, &alice).await;
    let mut second = open(addr, &thread, &alice).await;
    let mut early = open(addr, &thread, &alice).await;

    command(
        &mut first,
        json!({"type": "send_message", "command_id": "c", "content": "Tell me"}),
    )
    .await;
    // The third socket leaves after the first chunk.
    frames_until(&mut early, |f| f["type"] == "stream_chunk").await;
    early.close(None).await.unwrap();
    let expected: String = pieces.concat();
    for socket in [&mut first, &mut second] {
        let frames = frames_until(socket, |f| {
            f["type"] == "message_updated" && f["message"]["status"] == "complete"
        })
        .await;
        let created: Vec<&Value> = frames
            .iter()
            .filter(|f| f["type"] == "message_created")
            .collect();
        assert_eq!(created.len(), 2, "the question and the reply, once each");
        let reply_id = created[1]["message"]["id"].as_str().unwrap();
        assert_eq!(streamed_text(&frames, reply_id, 0), expected);
    }
}

#[tokio::test]
async fn typing_reaches_the_thread_s_other_sockets_not_the_typist_s() {
    let llm = FakeLlm::start().await;
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut typist = open(addr, &thread, &alice).await;
    let mut other = open(addr, &thread, &alice).await;
    command(&mut typist, json!({"type": "typing", "command_id": "t1"})).await;
    let heard = next_frame(&mut other).await;
    assert_eq!(
        (heard["type"].as_str(), &heard["thread_id"]),
        (Some("typing"), &json!(thread))
    );
    // Delivered to the room at once: had the typist's socket been sent it, it would
    // come before the ack of a later command.
    command(&mut typist, json!({"type": "typing", "command_id": "t2"})).await;
    let frames = frames_until(&mut typist, |f| f["command_id"] == "t2").await;
    assert!(frames.iter().all(|f| f["type"] == "ack"), "{frames:?}");
}

#[tokio::test]
async fn the_first_question_names_an_untitled_thread_and_its_watchers_hear_it() {
    let llm = FakeLlm::start().await;
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let created = call(
        &app,
        &alice,
        "POST",
        &format!("/api/projects/{project}/threads"),
        Some(json!({})),
    )
    .await;
    assert_eq!(created.body["title"], "New chat", "{}", created.text);
    let thread = created.body["id"].as_str().unwrap().to_owned();
    let mut socket = open(addr, &thread, &alice).await;
    command(
        &mut socket,
        json!({"type": "send_message", "command_id": "c",
               "content": "\n  Where   does the indexer\tretry?\nAnd why?"}),
    )
    .await;
    let frames = frames_until(&mut socket, |f| f["type"] == "thread_updated").await;
    assert_eq!(
        frames.last().unwrap()["thread"]["title"],
        "Where does the indexer retry?"
    );
    replies_settled(&app, &alice, &thread).await;
    // Named once: later questions, and a title the user chose, stay.
    let renamed = call(
        &app,
        &alice,
        "PATCH",
        &format!("/api/threads/{thread}"),
        Some(json!({"title": "Retries"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let sent = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/messages"),
        Some(json!({"content": "Something else entirely"})),
    )
    .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    let now = call(&app, &alice, "GET", &format!("/api/threads/{thread}"), None).await;
    assert_eq!(now.body["title"], "Retries");
}

#[tokio::test]
async fn deleting_a_thread_tells_its_sockets_and_closes_them() {
    let llm = FakeLlm::start().await;
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut sockets = [
        open(addr, &thread, &alice).await,
        open(addr, &thread, &alice).await,
    ];
    let deleted = call(
        &app,
        &alice,
        "DELETE",
        &format!("/api/threads/{thread}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    for socket in &mut sockets {
        assert_eq!(
            next_frame(socket).await,
            json!({"type": "thread_deleted", "thread_id": thread})
        );
        let close = closed(socket).await;
        assert_eq!(u16::from(close.code), 4404, "{close:?}");
    }

    // A project's deletion takes its threads, and tells their sockets so.
    let other = crate::chat::thread(&app, &alice, &project).await;
    let mut socket = open(addr, &other, &alice).await;
    let gone = call(
        &app,
        &alice,
        "DELETE",
        &format!("/api/projects/{project}"),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    assert_eq!(
        next_frame(&mut socket).await,
        json!({"type": "thread_deleted", "thread_id": other})
    );
    assert_eq!(u16::from(closed(&mut socket).await.code), 4404);
}

/// A reply of `pieces` streamed 20 ms apart into a new thread of Alice's, watched by
/// one socket until its chunk `seq` has arrived.
struct SlowReply {
    llm: FakeLlm,
    app: TestApp,
    addr: SocketAddr,
    alice: Account,
    project: String,
    thread: String,
    socket: Socket,
    question_id: String,
    reply_id: String,
}

async fn slow_reply(pieces: &[&str], seq: u64) -> SlowReply {
    let llm = FakeLlm::start().await;
    llm.then(Script::slow(pieces, Duration::from_millis(20)));
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut socket = open(addr, &thread, &alice).await;
    command(
        &mut socket,
        json!({"type": "send_message", "command_id": "c", "content": "long answer please"}),
    )
    .await;
    let frames = frames_until(&mut socket, |f| {
        f["type"] == "stream_chunk" && f["seq"] == seq
    })
    .await;
    let ack = frames.iter().find(|f| f["type"] == "ack").unwrap();
    let id = |key: &str| ack[key]["id"].as_str().unwrap().to_owned();
    let (question_id, reply_id) = (id("message"), id("reply"));
    SlowReply {
        llm,
        app,
        addr,
        alice,
        project,
        thread,
        socket,
        question_id,
        reply_id,
    }
}

/// Whether the provider saw a streaming request go away within 30 s.
async fn upstream_dropped(llm: &FakeLlm) -> bool {
    tokio::time::timeout(Duration::from_secs(30), async {
        while llm.dropped_streams() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_reply_is_whole_after_its_client_left_and_resume_sends_only_what_was_missed() {
    let pieces: Vec<String> = (0..30).map(|n| format!("t{n} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let SlowReply {
        addr,
        alice,
        thread,
        socket,
        reply_id,
        ..
    } = slow_reply(&pieces, 3).await;
    drop(socket);

    let mut again = open(addr, &thread, &alice).await;
    command(
        &mut again,
        json!({"type": "resume", "command_id": "r", "message_id": reply_id, "after_seq": 3}),
    )
    .await;
    let frames = frames_until(&mut again, |f| is_final_update(f, &reply_id)).await;
    let expected: String = pieces[4..].concat();
    assert_eq!(streamed_text(&frames, &reply_id, 4), expected);
    assert_eq!(
        frames.last().unwrap()["message"]["content"],
        pieces.concat()
    );

    // Once it has ended, a resume answers with the finished message.
    command(
        &mut again,
        json!({"type": "resume", "command_id": "r2", "message_id": reply_id, "after_seq": 3}),
    )
    .await;
    let frames = frames_until(&mut again, |f| f["type"] == "ack").await;
    assert!(frames.iter().all(|f| f["type"] != "stream_chunk"));
    let finished = frames
        .iter()
        .find(|f| f["type"] == "message_updated")
        .unwrap();
    assert_eq!(finished["message"]["content"], pieces.concat());
}

#[tokio::test]
async fn a_missing_model_falls_back_and_the_fallback_is_remembered() {
    let llm = FakeLlm::start().await;
    llm.for_model(
        "big",
        Script::error(
            404,
            Some("model_not_found"),
            "The model `big` does not exist",
        ),
    );
    llm.for_model("small", Script::text(&["from small"]));
    llm.for_model("small", Script::text(&["small again"]));
    let app = TestApp::builder()
        .chat(chat_settings(&llm, "big", &["small"]))
        .build()
        .await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut socket = open(addr, &thread, &alice).await;
    for expected in ["from small", "small again"] {
        command(
            &mut socket,
            json!({"type": "send_message", "content": "hi"}),
        )
        .await;
        let frames = frames_until(&mut socket, |f| {
            f["type"] == "message_updated"
                && f["message"]["role"] == "assistant"
                && f["message"]["status"] != "streaming"
        })
        .await;
        let done = &frames.last().unwrap()["message"];
        assert_eq!(
            (
                done["status"].as_str(),
                done["content"].as_str(),
                done["model"].as_str()
            ),
            (Some("complete"), Some(expected), Some("small"))
        );
    }
    assert_eq!(
        llm.models(),
        ["big", "small", "small"],
        "the second reply went straight to the fallback"
    );
}

#[tokio::test]
async fn when_every_option_fails_the_user_gets_a_friendly_error_and_a_failed_reply() {
    let llm = FakeLlm::start().await;
    llm.for_model(
        "big",
        Script::error(400, Some("context_length_exceeded"), "secret provider text"),
    );
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut socket = open(addr, &thread, &alice).await;
    command(
        &mut socket,
        json!({"type": "send_message", "command_id": "c", "content": "hi"}),
    )
    .await;
    let frames = frames_until(&mut socket, |f| f["type"] == "error").await;
    let error = &frames.last().unwrap()["error"];
    assert_eq!(error["code"], "llm_unavailable");
    assert_eq!(
        error["detail"],
        "The language model is unavailable right now. Please try again."
    );
    assert!(
        !frames
            .iter()
            .any(|f| f.to_string().contains("secret provider text"))
    );
    let failed = frames
        .iter()
        .find(|f| f["type"] == "message_updated")
        .unwrap();
    assert_eq!(failed["message"]["status"], "failed");
    assert_eq!(failed["message"]["error"], error["detail"]);
    assert_eq!(llm.models(), ["big"], "a bad request is not retried");

    // It can be regenerated once the model is back.
    let reply_id = failed["message"]["id"].as_str().unwrap();
    command(
        &mut socket,
        json!({"type": "regenerate", "command_id": "r", "message_id": reply_id}),
    )
    .await;
    let frames = frames_until(&mut socket, |f| {
        f["type"] == "message_updated" && f["message"]["status"] == "complete"
    })
    .await;
    let new_reply = &frames.last().unwrap()["message"];
    assert_ne!(new_reply["id"], reply_id);
    assert_eq!(
        new_reply["parent_id"], failed["message"]["parent_id"],
        "a sibling of the failed reply"
    );
}

#[tokio::test]
async fn without_a_model_configured_chat_says_so_and_keeps_the_question() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let sent = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/messages"),
        Some(json!({"content": "hello?"})),
    )
    .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    let reply_id = sent.body["reply"]["id"].as_str().unwrap();
    let reply = loop {
        let page = call(
            &app,
            &alice,
            "GET",
            &format!("/api/threads/{thread}/messages"),
            None,
        )
        .await;
        let reply = page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == reply_id)
            .cloned()
            .unwrap();
        if reply["status"] != "streaming" {
            break reply;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(reply["status"], "failed");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("No language model is configured")
    );
}

#[tokio::test]
async fn stop_drops_the_upstream_request_and_keeps_the_partial_reply() {
    let pieces: Vec<String> = (0..500).map(|n| format!("p{n} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let SlowReply {
        llm,
        app,
        alice,
        thread,
        mut socket,
        question_id,
        reply_id,
        ..
    } = slow_reply(&pieces, 2).await;

    // A second question while this one streams is refused.
    let busy = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/messages"),
        Some(json!({"content": "and?"})),
    )
    .await;
    assert_eq!(
        (busy.status, busy.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("reply_in_progress"))
    );
    // So is changing the question being answered.
    for (method, body) in [
        ("PATCH", Some(json!({"content": "other"}))),
        ("DELETE", None),
    ] {
        let changed = call(
            &app,
            &alice,
            method,
            &format!("/api/messages/{question_id}"),
            body,
        )
        .await;
        assert_eq!(
            (changed.status, changed.body["code"].as_str()),
            (StatusCode::CONFLICT, Some("reply_in_progress")),
            "{method}"
        );
    }

    command(
        &mut socket,
        json!({"type": "stop_generation", "command_id": "s", "message_id": reply_id}),
    )
    .await;
    let frames = frames_until(&mut socket, |f| {
        f["type"] == "ack" && f["command_id"] == "s"
    })
    .await;
    let stopped = &frames.last().unwrap()["message"];
    assert_eq!(stopped["status"], "stopped");
    let partial = stopped["content"].as_str().unwrap();
    assert!(
        partial.starts_with("p0 p1 p2 ") && partial.len() < pieces.concat().len(),
        "{partial}"
    );
    assert!(upstream_dropped(&llm).await, "the provider kept generating");
    let saved = call(
        &app,
        &alice,
        "GET",
        &format!("/api/threads/{thread}/messages"),
        None,
    )
    .await;
    assert_eq!(saved.body["items"][0]["content"], partial);
}

#[tokio::test]
async fn deleting_the_project_stops_its_replies_at_the_provider() {
    let pieces: Vec<String> = (0..2000).map(|n| format!("p{n} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let SlowReply {
        llm,
        app,
        alice,
        project,
        ..
    } = slow_reply(&pieces, 2).await;
    let deleted = call(
        &app,
        &alice,
        "DELETE",
        &format!("/api/projects/{project}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    // Nobody can stop it any more, so Kiln does: the provider sees the request go away
    // long before its 2,000 pieces (40 s) are through.
    assert!(
        upstream_dropped(&llm).await,
        "the reply kept generating for a deleted project"
    );
}

#[tokio::test]
async fn edits_keep_their_history_and_only_the_author_may_change_a_message() {
    let llm = FakeLlm::start().await;
    let app = app_with(&llm, WsSettings::default()).await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let sent = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/messages"),
        Some(json!({"content": "first"})),
    )
    .await;
    let message = sent.body["message"]["id"].as_str().unwrap().to_owned();
    let reply = sent.body["reply"]["id"].as_str().unwrap().to_owned();
    // A question is changed once its reply has ended (not while it is answered).
    replies_settled(&app, &alice, &thread).await;
    for content in ["second", "third"] {
        let edited = call(
            &app,
            &alice,
            "PATCH",
            &format!("/api/messages/{message}"),
            Some(json!({"content": content})),
        )
        .await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
        assert!(edited.body["edited_at"].is_string());
    }
    let edits = call(
        &app,
        &alice,
        "GET",
        &format!("/api/messages/{message}/edits"),
        None,
    )
    .await;
    let previous: Vec<&str> = edits
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["previous_content"].as_str().unwrap())
        .collect();
    assert_eq!(previous, ["second", "first"]);
    let empty = call(
        &app,
        &alice,
        "PATCH",
        &format!("/api/messages/{message}"),
        Some(json!({"content": "  "})),
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let not_theirs = call(
        &app,
        &alice,
        "PATCH",
        &format!("/api/messages/{reply}"),
        Some(json!({"content": "rewritten"})),
    )
    .await;
    assert_eq!(
        not_theirs.status,
        StatusCode::FORBIDDEN,
        "the assistant's reply is not the user's to edit"
    );
    let bob = app.register("bob@example.com").await;
    let stranger = call(
        &app,
        &bob,
        "PATCH",
        &format!("/api/messages/{message}"),
        Some(json!({"content": "mine"})),
    )
    .await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    let stranger = call(
        &app,
        &bob,
        "DELETE",
        &format!("/api/messages/{message}"),
        None,
    )
    .await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_frames_get_typed_errors_and_the_socket_stays_usable() {
    let llm = FakeLlm::start().await;
    let ws = WsSettings {
        commands_per_minute: 6,
        max_frame_bytes: 4096,
        ..WsSettings::default()
    };
    let app = TestApp::builder()
        .chat(ChatSettings {
            message_max_bytes: 100,
            ..chat_settings(&llm, "big", &[])
        })
        .settings(HttpSettings { ws, ..relaxed() })
        .build()
        .await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut socket = open(addr, &thread, &alice).await;

    socket
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut socket).await["error"]["type"],
        "bad_request"
    );
    command(&mut socket, json!({"type": "launch", "command_id": "u"})).await;
    let unknown = next_frame(&mut socket).await;
    assert_eq!(
        (
            unknown["command_id"].as_str(),
            unknown["error"]["type"].as_str()
        ),
        (Some("u"), Some("validation_error"))
    );
    command(
        &mut socket,
        json!({"type": "send_message", "command_id": "big", "content": "x".repeat(101)}),
    )
    .await;
    let too_long = next_frame(&mut socket).await;
    assert_eq!(
        (
            too_long["command_id"].as_str(),
            too_long["error"]["type"].as_str()
        ),
        (Some("big"), Some("payload_too_large"))
    );
    // Each command's error names the request its log lines are under, as over REST.
    assert!(too_long["error"]["request_id"].is_string(), "{too_long}");
    assert_ne!(
        too_long["error"]["request_id"],
        unknown["error"]["request_id"]
    );
    command(
        &mut socket,
        json!({"type": "send_message", "command_id": "esc", "content": "\u{1b}[31mred"}),
    )
    .await;
    let control = next_frame(&mut socket).await;
    assert_eq!(
        (
            control["error"]["type"].as_str(),
            control["error"]["fields"][0]["field"].as_str()
        ),
        (Some("validation_error"), Some("content")),
        "{control}"
    );
    command(
        &mut socket,
        json!({"type": "edit_message", "command_id": "m", "message_id": "nope", "content": "x"}),
    )
    .await;
    assert_eq!(next_frame(&mut socket).await["error"]["type"], "not_found");
    command(&mut socket, json!({"type": "typing", "command_id": "ok"})).await;
    let frames = frames_until(&mut socket, |f| f["type"] == "ack").await;
    assert_eq!(frames.last().unwrap()["command_id"], "ok", "still usable");
    // Six commands so far this minute: the seventh is refused, the socket stays.
    command(
        &mut socket,
        json!({"type": "typing", "command_id": "limited"}),
    )
    .await;
    let limited = frames_until(&mut socket, |f| f["command_id"] == "limited")
        .await
        .pop()
        .unwrap();
    assert_eq!(
        (
            limited["command_id"].as_str(),
            limited["error"]["type"].as_str()
        ),
        (Some("limited"), Some("rate_limit_exceeded"))
    );

    // A frame over the frame limit closes with 1009.
    socket
        .send(Message::Text("x".repeat(5000).into()))
        .await
        .unwrap();
    assert_eq!(closed(&mut socket).await.code, CloseCode::Size);
}

/// The close frame the server ends the socket with (frames before it are skipped).
async fn closed(socket: &mut Socket) -> tokio_tungstenite::tungstenite::protocol::CloseFrame {
    loop {
        match tokio::time::timeout(FRAME_WAIT, socket.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(Some(frame)))) => return frame,
            Some(Ok(Message::Close(None))) => panic!("closed without a code"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_socket_names_only_messages_of_its_own_thread() {
    let llm = FakeLlm::start().await;
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let (here, there) = (
        thread(&app, &alice, &project).await,
        thread(&app, &alice, &project).await,
    );
    let sent = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{there}/messages"),
        Some(json!({"content": "kept as written"})),
    )
    .await;
    let message = sent.body["message"]["id"].as_str().unwrap().to_owned();
    replies_settled(&app, &alice, &there).await;
    let mut socket = open(addr, &here, &alice).await;
    for (id, frame) in [
        (
            "edit",
            json!({"type": "edit_message", "message_id": message, "content": "x"}),
        ),
        (
            "delete",
            json!({"type": "delete_message", "message_id": message}),
        ),
        (
            "regenerate",
            json!({"type": "regenerate", "message_id": message}),
        ),
        // An id that cannot exist is not found either (it used to be a 500).
        (
            "empty",
            json!({"type": "stop_generation", "message_id": ""}),
        ),
        (
            "resume",
            json!({"type": "resume", "message_id": "", "after_seq": 0}),
        ),
    ] {
        let mut frame = frame;
        frame["command_id"] = json!(id);
        command(&mut socket, frame).await;
        let refused = frames_until(&mut socket, |f| f["command_id"] == id).await;
        let refused = refused.last().unwrap();
        assert_eq!(
            (refused["type"].as_str(), refused["error"]["type"].as_str()),
            (Some("error"), Some("not_found")),
            "{id}: {refused}"
        );
    }
    command(
        &mut socket,
        json!({"type": "send_message", "command_id": "p", "content": "x", "parent_id": ""}),
    )
    .await;
    let refused = frames_until(&mut socket, |f| f["command_id"] == "p").await;
    assert_eq!(
        refused.last().unwrap()["error"]["fields"][0]["field"],
        "parent_id"
    );
    let page = call(
        &app,
        &alice,
        "GET",
        &format!("/api/threads/{there}/messages"),
        None,
    )
    .await;
    let contents: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["kept as written"]);
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_and_a_reading_one_gets_everything_in_order() {
    let llm = FakeLlm::start().await;
    // Eight replies of 1 MB each: far more than the kernel buffers a stalled socket.
    let piece = "x".repeat(4000);
    let pieces: Vec<&str> = (0..250).map(|_| piece.as_str()).collect();
    for _ in 0..8 {
        llm.then(Script::text(&pieces));
    }
    let ws = WsSettings {
        queue_capacity: 16,
        ..WsSettings::default()
    };
    let app = app_with(&llm, ws).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut stalled = open(addr, &thread, &alice).await;
    let mut reader = open(addr, &thread, &alice).await;
    for round in 0..8 {
        command(&mut reader, json!({"type": "send_message", "command_id": format!("c{round}"), "content": format!("round {round}")})).await;
        let frames = frames_until(&mut reader, |f| {
            f["type"] == "message_updated" && f["message"]["status"] == "complete"
        })
        .await;
        let reply = frames.iter().find(|f| f["type"] == "ack").unwrap()["reply"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            streamed_text(&frames, &reply, 0).len(),
            1_000_000,
            "round {round}"
        );
    }
    // The stalled socket was closed long before the end: it cannot have all eight.
    let mut completes = 0;
    let mut closed_with = None;
    loop {
        match tokio::time::timeout(FRAME_WAIT, stalled.next())
            .await
            .expect("the stalled socket was not closed")
        {
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "message_updated" && frame["message"]["status"] == "complete" {
                    completes += 1;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                closed_with = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    assert!(completes < 8, "the stalled client got every reply");
    assert!(
        closed_with.is_none_or(|code| code == 1013),
        "{closed_with:?}"
    );
}

#[tokio::test]
async fn a_silent_client_is_reaped_and_its_place_given_back() {
    let llm = FakeLlm::start().await;
    let ws = WsSettings {
        heartbeat: Duration::from_millis(200),
        missed_pongs: 1,
        max_sockets_per_user: 1,
        ..WsSettings::default()
    };
    let app = app_with(&llm, ws).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    // Never read, so never answers a ping.
    let _silent = open(addr, &thread, &alice).await;
    let (status, body) = connect(addr, &thread, Credentials::Bearer(&alice), "")
        .await
        .err()
        .unwrap();
    assert_eq!(
        (status, body["type"].as_str()),
        (429, Some("rate_limit_exceeded"))
    );
    let deadline = tokio::time::Instant::now() + FRAME_WAIT;
    let mut socket = loop {
        match connect(addr, &thread, Credentials::Bearer(&alice), "").await {
            Ok(socket) => break socket,
            Err((429, _)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("the silent socket was not reaped: {other:?}"),
        }
    };
    command(&mut socket, json!({"type": "typing", "command_id": "t"})).await;
    assert_eq!(
        frames_until(&mut socket, |f| f["type"] == "ack")
            .await
            .last()
            .unwrap()["command_id"],
        "t"
    );
}

/// Waits until no reply of the thread is streaming (without a model each fails at
/// once, but is saved by its own task).
async fn replies_settled(app: &TestApp, user: &Account, thread: &str) {
    let uri = format!("/api/threads/{thread}/messages");
    loop {
        let page = call(app, user, "GET", &uri, None).await;
        let items = page.body["items"].as_array().unwrap();
        if items.iter().all(|m| m["status"] != "streaming") {
            return;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn paging_a_thread_while_messages_arrive_sees_each_message_once() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let uri = format!("/api/threads/{thread}/messages");
    for n in 0..3 {
        replies_settled(&app, &alice, &thread).await;
        let sent = call(
            &app,
            &alice,
            "POST",
            &uri,
            Some(json!({"content": format!("question {n}")})),
        )
        .await;
        assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    }
    replies_settled(&app, &alice, &thread).await;
    let first = call(&app, &alice, "GET", &format!("{uri}?limit=4"), None).await;
    let ids = |reply: &crate::support::app::Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut seen = ids(&first);
    // Generic clients follow the Link header, which keeps the page size.
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let link = first.headers["link"].to_str().unwrap();
    assert_eq!(
        link,
        format!("</api/threads/{thread}/messages?limit=4&after={cursor}>; rel=\"next\"")
    );
    // New messages arrive between the pages.
    call(
        &app,
        &alice,
        "POST",
        &uri,
        Some(json!({"content": "meanwhile"})),
    )
    .await;
    replies_settled(&app, &alice, &thread).await;
    let rest = call(
        &app,
        &alice,
        "GET",
        &format!("{uri}?limit=100&after={cursor}"),
        None,
    )
    .await;
    assert!(rest.body["next_cursor"].is_null());
    seen.extend(ids(&rest));
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (seen.len(), unique.len()),
        (6, 6),
        "the six messages from before, once each"
    );
    // The newest page now starts with what arrived meanwhile.
    let now = call(&app, &alice, "GET", &format!("{uri}?limit=2"), None).await;
    assert_eq!(now.body["items"][1]["content"], "meanwhile");
}

#[tokio::test]
async fn a_reply_with_a_code_block_without_a_language_is_saved_with_its_snippet() {
    let llm = FakeLlm::start().await;
    llm.then(Script::text(&["Run:\n\n```\n", "make test\n", "```\n"]));
    let app = app_with(&llm, WsSettings::default()).await;
    let addr = app.serve().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let thread = thread(&app, &alice, &project).await;
    let mut socket = open(addr, &thread, &alice).await;
    command(
        &mut socket,
        json!({"type": "send_message", "content": "How do I test?"}),
    )
    .await;
    let frames = frames_until(&mut socket, |f| {
        f["type"] == "message_updated" && f["message"]["role"] == "assistant"
    })
    .await;
    let reply = &frames.last().unwrap()["message"];
    assert_eq!(reply["status"], "complete", "{reply:#}");
    assert_eq!(reply["snippets"][0]["code"], "make test\n");
    assert!(reply["snippets"][0]["language"].is_null());
    // The thread is free for the next question.
    let next = call(
        &app,
        &alice,
        "POST",
        &format!("/api/threads/{thread}/messages"),
        Some(json!({"content": "and then?"})),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.text);
}

/// The real binary: a reply given up on is an ERROR line with its cause, and neither
/// the question nor the API key is ever logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_given_up_on_is_logged_as_an_error_with_its_cause_and_nothing_secret() {
    use crate::support::{http, kiln, serve};
    let llm = FakeLlm::start().await;
    llm.for_model(
        "big",
        Script::error(400, Some("context_length_exceeded"), "prompt too long"),
    );
    let data = tempfile::tempdir().unwrap();
    let mut command = kiln(data.path());
    command
        .env("KILN_LLM_BASE_URL", &llm.url)
        .env("LLM_MODEL", "big")
        .env("KILN_LLM_API_KEY", "sk-never-in-the-log");
    let (_server, addr, log) = tokio::task::spawn_blocking(move || serve(&mut command))
        .await
        .unwrap();
    let json = "application/json";
    let account =
        json!({"email": "alice@example.com", "password": "correct horse battery"}).to_string();
    let token = http(
        &addr,
        "POST",
        "/api/auth/register",
        None,
        json,
        account.as_bytes(),
    )
    .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = http(
        &addr,
        "POST",
        "/api/projects",
        Some(&token),
        json,
        br#"{"name":"logs"}"#,
    )
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let thread = http(
        &addr,
        "POST",
        &format!("/api/projects/{project}/threads"),
        Some(&token),
        json,
        b"{}",
    )
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let question = json!({"content": "my confidential question about payroll.rs"}).to_string();
    let sent = http(
        &addr,
        "POST",
        &format!("/api/threads/{thread}/messages"),
        Some(&token),
        json,
        question.as_bytes(),
    );
    assert_eq!(sent.status, 201, "{}", sent.text);
    let lines = tokio::task::spawn_blocking(move || log.lines_until("could not answer"))
        .await
        .unwrap();
    let error = lines.last().unwrap();
    assert!(
        error.contains("ERROR") && error.contains("context_length_exceeded"),
        "{error}"
    );
    for line in &lines {
        assert!(
            !line.contains("confidential") && !line.contains("sk-never-in-the-log"),
            "{line}"
        );
    }
}
