//! Code documents over HTTP: uploads with dedup and limits, edits with optimistic
//! locking and history, background indexing and search.

use crate::support;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    body::{Body, Bytes},
    http::{Request, StatusCode, header},
};
use kiln_core::files::FileSettings;
use serde_json::{Value, json};
use support::app::{Account, Reply, TestApp, bearer, get, post_json};

const BOUNDARY: &str = "kiln-files-boundary";

pub(crate) fn multipart(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (path, content) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_request(project: &str, body: Body, user: &Account) -> Request<Body> {
    bearer(
        Request::post(format!("/api/projects/{project}/files"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .unwrap(),
        user,
    )
}

pub(crate) async fn upload(
    app: &TestApp,
    user: &Account,
    project: &str,
    files: &[(&str, &[u8])],
) -> Reply {
    app.send(upload_request(project, Body::from(multipart(files)), user))
        .await
}

pub(crate) async fn project(app: &TestApp, user: &Account) -> String {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let reply = app
        .send(bearer(
            post_json("/api/projects", json!({"name": "code"})),
            user,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn call(
    app: &TestApp,
    user: &Account,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    app.send(bearer(request, user)).await
}

/// Waits until the indexer has nothing queued for the project.
pub(crate) async fn indexed(app: &TestApp, user: &Account, project: &str) -> Value {
    let mut progress = app.services.files.progress();
    loop {
        let status = call(
            app,
            user,
            "GET",
            &format!("/api/projects/{project}/index-status"),
            None,
        )
        .await;
        assert_eq!(status.status, StatusCode::OK, "{}", status.text);
        if status.body["queued"] == 0 {
            return status.body;
        }
        tokio::time::timeout(std::time::Duration::from_secs(60), progress.changed())
            .await
            .expect("the indexer made no progress within a minute")
            .unwrap();
    }
}

/// (queued, indexed) files of the project, as its index status says.
async fn queue(app: &TestApp, user: &Account, project: &str) -> (u64, u64) {
    let uri = format!("/api/projects/{project}/index-status");
    let status = call(app, user, "GET", &uri, None).await.body;
    (
        status["queued"].as_u64().unwrap_or_default(),
        status["indexed"].as_u64().unwrap_or_default(),
    )
}

/// The titles of the project's timeline events of one type, newest first.
async fn timeline_titles(app: &TestApp, user: &Account, project: &str, kind: &str) -> Vec<String> {
    let uri = format!("/api/projects/{project}/timeline?type={kind}");
    let timeline = call(app, user, "GET", &uri, None).await.body;
    timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_owned())
        .collect()
}

fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn search(
    app: &TestApp,
    user: &Account,
    project: &str,
    query: &str,
) -> Vec<Value> {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let reply = call(
        app,
        user,
        "GET",
        &format!("/api/projects/{project}/search?q={q}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["hits"].as_array().unwrap().clone()
}

const RUST: &[u8] = b"/// Reads the settings.\npub fn parse_http_config(input: &str) -> Config {\n    Config::default()\n}\n";
const JS: &[u8] = b"export function loadUserProfile(id) {\n  return fetch(`/users/${id}`);\n}\n";

#[tokio::test]
async fn two_indexers_on_one_database_never_take_the_same_file() {
    let app = TestApp::builder().without_indexer().build().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let sources: Vec<(String, String)> = (0..20)
        .map(|i| (format!("src/f{i}.rs"), format!("pub fn f{i}() {{}}\n")))
        .collect();
    let files: Vec<(&str, &[u8])> = sources
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_bytes()))
        .collect();
    let reply = upload(&app, &alice, &project, &files).await;
    assert_eq!(reply.body["created"], 20, "{}", reply.text);

    // Two workers, each on its own database session, at the same moment.
    let first = app.services.files.indexer().await.unwrap();
    let second = app.services.files.indexer().await.unwrap();
    let (a, b) = tokio::join!(first.step(), second.step());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, 20, "each file taken once: {a} + {b}");
    let status = indexed(&app, &alice, &project).await;
    assert_eq!(
        (status["indexed"].as_u64(), status["failed"].as_u64()),
        (Some(20), Some(0))
    );
}

#[tokio::test]
async fn new_paths_are_created_same_content_is_a_duplicate_new_content_a_version() {
    // The indexer is driven by hand here, to see the queue between the steps.
    let app = TestApp::builder().without_indexer().build().await;
    let indexer = app.services.files.indexer().await.unwrap();
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;

    let first = upload(
        &app,
        &alice,
        &project,
        &[("src/config.rs", RUST), ("web/profile.js", JS)],
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(
        outcomes(&first.body),
        [
            ("src/config.rs".into(), "created".into()),
            ("web/profile.js".into(), "created".into())
        ]
    );
    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["file_count"], 2);
    assert_eq!(stats.body["total_bytes"], RUST.len() + JS.len());
    assert_eq!(stats.body["languages"]["rust"], 1, "{}", stats.text);

    let again = upload(&app, &alice, &project, &[("src/config.rs", RUST)]).await;
    assert_eq!(
        outcomes(&again.body),
        [("src/config.rs".into(), "duplicate".into())]
    );
    assert_eq!(again.body["files"][0]["version"], 1);
    let file_id = again.body["files"][0]["file_id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(queue(&app, &alice, &project).await, (2, 0));
    assert!(
        search(&app, &alice, &project, "parse_http_config")
            .await
            .is_empty()
    );
    assert_eq!(indexer.step().await.unwrap(), 2);
    assert_eq!(queue(&app, &alice, &project).await, (0, 2));
    assert_eq!(
        search(&app, &alice, &project, "parse_http_config")
            .await
            .len(),
        1
    );

    let changed = b"pub fn load_tls_settings() -> Tls {\n    Tls::default()\n}\n";
    let update = upload(&app, &alice, &project, &[("src/config.rs", changed)]).await;
    assert_eq!(
        outcomes(&update.body),
        [("src/config.rs".into(), "updated".into())]
    );
    assert_eq!(update.body["files"][0]["version"], 2);
    assert_eq!(update.body["files"][0]["file_id"], file_id.as_str());
    // Queued again at once; the old chunks are gone before the new ones exist.
    let file = call(&app, &alice, "GET", &format!("/api/files/{file_id}"), None).await;
    assert_eq!(file.body["index_status"], "queued");
    assert!(
        search(&app, &alice, &project, "parse_http_config")
            .await
            .is_empty()
    );

    assert_eq!(indexer.step().await.unwrap(), 1);
    assert_eq!(indexer.step().await.unwrap(), 0, "nothing left");
    let hits = search(&app, &alice, &project, "loadTlsSettings").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["path"], "src/config.rs");
    let versions = call(
        &app,
        &alice,
        "GET",
        &format!("/api/files/{file_id}/versions"),
        None,
    )
    .await;
    let numbers: Vec<u64> = versions
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(
        versions.body[1]["sha256"],
        kiln_plugin_host::sha256_hex(RUST)
    );
    let old = call(
        &app,
        &alice,
        "GET",
        &format!("/api/files/{file_id}/versions/1"),
        None,
    )
    .await;
    assert_eq!(old.body["content"], std::str::from_utf8(RUST).unwrap());

    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["file_count"], 2);
    assert_eq!(stats.body["total_bytes"], changed.len() + JS.len());
    let titles = timeline_titles(&app, &alice, &project, "file_uploaded").await;
    assert_eq!(
        titles,
        [
            "Uploaded a new version of src/config.rs",
            "Uploaded 2 files"
        ]
    );
}

#[tokio::test]
async fn unsafe_names_are_refused_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let long = "x".repeat(300);
    for name in [
        "../../etc/passwd",
        "/etc/passwd",
        "src/../../escape.rs",
        "C:/Windows/x.rs",
        long.as_str(),
    ] {
        let reply = upload(
            &app,
            &alice,
            &project,
            &[("ok.rs", b"fn ok() {}"), (name, b"x")],
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            reply.text
        );
        assert_eq!(reply.body["type"], "validation_error");
    }
    let twice = upload(&app, &alice, &project, &[("a.rs", b"1"), ("./a.rs", b"2")]).await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.text
    );
    let list = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/files"),
        None,
    )
    .await;
    assert_eq!(list.body, json!([]));
}

/// A body that produces `total` bytes of one file part on demand, counting what the
/// server actually pulled.
fn endless_file(total: usize, pulled: Arc<AtomicUsize>) -> Body {
    const PIECE: usize = 64 * 1024;
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n\r\n"
    );
    let pieces = std::iter::once(Bytes::from(head))
        .chain((0..total / PIECE).map(|_| Bytes::from(vec![b'a'; PIECE])));
    Body::from_stream(futures_util::stream::iter(pieces.map(move |piece| {
        pulled.fetch_add(piece.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(piece)
    })))
}

#[tokio::test]
async fn oversize_files_and_requests_are_refused_while_streaming() {
    let app = TestApp::builder()
        .upload_limits(1 << 20, 4 << 20)
        .build()
        .await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;

    // One file over the per-file limit, in a body that would go on for 64 MiB.
    let pulled = Arc::new(AtomicUsize::new(0));
    let reply = app
        .send(upload_request(
            &project,
            endless_file(64 << 20, pulled.clone()),
            &alice,
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_eq!(reply.body["type"], "payload_too_large");
    assert_eq!(reply.body["limit"], 1 << 20);
    assert!(
        pulled.load(Ordering::SeqCst) < 2 << 20,
        "read {} bytes",
        pulled.load(Ordering::SeqCst)
    );

    // Files under the per-file limit that together pass the request limit.
    let piece = vec![b'x'; 900 * 1024];
    let names: Vec<String> = (0..6).map(|i| format!("part{i}.txt")).collect();
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), piece.as_slice()))
        .collect();
    let body = multipart(&files);
    let stream = futures_util::stream::iter(
        body.chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let reply = app
        .send(upload_request(&project, Body::from_stream(stream), &alice))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_eq!(reply.body["limit"], 4 << 20);

    // A declared length over the limit is refused before the body is read at all.
    let pulled = Arc::new(AtomicUsize::new(0));
    let mut request = upload_request(&project, endless_file(64 << 20, pulled.clone()), &alice);
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (64u64 << 20).into());
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body["limit"], 4 << 20);
    assert_eq!(pulled.load(Ordering::SeqCst), 0);

    let list = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/files"),
        None,
    )
    .await;
    assert_eq!(
        list.body,
        json!([]),
        "nothing of a refused upload is stored"
    );
}

#[tokio::test]
async fn archives_expand_within_the_limits() {
    let app = TestApp::builder()
        .upload_limits(1 << 20, 4 << 20)
        .build()
        .await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let zip = |entries: &[(&str, &[u8])]| {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in entries {
            writer
                .start_file(
                    *name,
                    zip::write::SimpleFileOptions::default()
                        .compression_method(zip::CompressionMethod::Deflated),
                )
                .unwrap();
            std::io::Write::write_all(&mut writer, content).unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    let folder = zip(&[("app/src/lib.rs", RUST), ("app/web/profile.js", JS)]);
    let reply = upload(&app, &alice, &project, &[("app.zip", &folder)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        outcomes(&reply.body),
        [
            ("app/src/lib.rs".into(), "created".into()),
            ("app/web/profile.js".into(), "created".into())
        ]
    );

    // 2 MiB of zeros compresses to a few KiB: the entry is measured as it expands.
    let bomb = zip(&[("zeros.txt", &vec![b'0'; 2 << 20])]);
    assert!(bomb.len() < 64 * 1024);
    let reply = upload(&app, &alice, &project, &[("bomb.zip", &bomb)]).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_eq!(reply.body["limit"], 1 << 20);

    let escape = zip(&[("../evil.rs", b"fn evil() {}")]);
    let reply = upload(&app, &alice, &project, &[("escape.zip", &escape)]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn binary_files_are_stored_unindexed_or_refused_by_policy() {
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let reply = upload(&app, &alice, &project, &[("logo.png", png)]).await;
    assert_eq!(
        outcomes(&reply.body),
        [("logo.png".into(), "created".into())]
    );
    let id = reply.body["files"][0]["file_id"].as_str().unwrap();
    let file = call(&app, &alice, "GET", &format!("/api/files/{id}"), None).await;
    assert_eq!(file.body["binary"], true);
    assert_eq!(file.body["index_status"], "skipped");
    assert_eq!(file.body["content"], Value::Null);

    let strict = TestApp::builder()
        .files(FileSettings {
            store_binary: false,
            ..FileSettings::default()
        })
        .build()
        .await;
    let bob = strict.register("bob@example.com").await;
    let project = self::project(&strict, &bob).await;
    let reply = upload(
        &strict,
        &bob,
        &project,
        &[("logo.png", png), ("a.txt", b"text")],
    )
    .await;
    assert_eq!(
        outcomes(&reply.body),
        [
            ("logo.png".into(), "refused".into()),
            ("a.txt".into(), "created".into())
        ]
    );
    assert!(
        reply.body["files"][0]["note"]
            .as_str()
            .unwrap()
            .contains("binary")
    );
}

#[tokio::test]
async fn stale_edits_conflict_and_history_diff_and_restore_work() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let reply = upload(
        &app,
        &alice,
        &project,
        &[("notes.md", b"# Notes\n\nfirst\n")],
    )
    .await;
    let id = reply.body["files"][0]["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("/api/files/{id}");

    let saved = call(
        &app,
        &alice,
        "PUT",
        &uri,
        Some(json!({"version": 1, "content": "# Notes\n\nsecond\n"})),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(saved.body["version"], 2);

    // A second tab still on version 1.
    let stale = call(
        &app,
        &alice,
        "PUT",
        &uri,
        Some(json!({"version": 1, "content": "# Notes\n\nthird\n"})),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    assert_eq!(stale.body["current_version"], 2);
    assert_eq!(
        stale.body["current_sha256"],
        kiln_plugin_host::sha256_hex(b"# Notes\n\nsecond\n")
    );
    let file = call(&app, &alice, "GET", &uri, None).await;
    assert_eq!(
        file.body["content"], "# Notes\n\nsecond\n",
        "the stale edit changed nothing"
    );

    let diff = call(&app, &alice, "GET", &format!("{uri}/diff?from=1"), None).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.text);
    assert_eq!(
        (diff.body["added"].as_u64(), diff.body["removed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        diff.body["unified"]
            .as_str()
            .unwrap()
            .contains("-first\n+second\n")
    );

    let restored = call(
        &app,
        &alice,
        "POST",
        &format!("{uri}/restore"),
        Some(json!({"version": 1})),
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    assert_eq!(restored.body["version"], 3);
    let file = call(&app, &alice, "GET", &uri, None).await;
    assert_eq!(file.body["content"], "# Notes\n\nfirst\n");

    let renamed = call(
        &app,
        &alice,
        "PUT",
        &uri,
        Some(json!({"version": 3, "path": "docs/notes.md"})),
    )
    .await;
    assert_eq!(renamed.body["path"], "docs/notes.md");
    assert_eq!(renamed.body["version"], 4);
    let escape = call(
        &app,
        &alice,
        "PUT",
        &uri,
        Some(json!({"version": 4, "path": "../x.md"})),
    )
    .await;
    assert_eq!(escape.status, StatusCode::UNPROCESSABLE_ENTITY);

    let titles = timeline_titles(&app, &alice, &project, "file_updated").await;
    assert_eq!(
        titles,
        [
            "Renamed notes.md to docs/notes.md",
            "Restored notes.md to version 1",
            "Edited notes.md"
        ]
    );
}

#[tokio::test]
async fn renaming_onto_a_taken_path_is_name_taken_whatever_the_path_says() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    // Paths quoting the database's own words ("stale", an index name) are just paths.
    let taken = "docs/stale file_project_path.md";
    let reply = upload(
        &app,
        &alice,
        &project,
        &[("notes.md", b"# Notes\n"), (taken, b"# Taken\n")],
    )
    .await;
    let id = reply.body["files"][0]["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("/api/files/{id}");

    let clash = call(
        &app,
        &alice,
        "PUT",
        &uri,
        Some(json!({"version": 1, "path": taken})),
    )
    .await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.text);
    assert_eq!(clash.body["type"], "conflict");
    assert_eq!(clash.body["code"], "name_taken", "{}", clash.text);
    assert!(
        clash.body.get("current_version").is_none(),
        "{}",
        clash.text
    );
    let file = call(&app, &alice, "GET", &uri, None).await;
    assert_eq!(file.body["path"], "notes.md", "nothing was renamed");
    assert_eq!(file.body["version"], 1);

    let stale = call(
        &app,
        &alice,
        "PUT",
        &uri,
        Some(json!({"version": 7, "content": "# Late\n"})),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    assert_eq!(stale.body["code"], "stale_version");
    assert_eq!(stale.body["current_version"], 1);
}

#[tokio::test]
async fn a_deleted_file_does_not_hold_its_path() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let reply = upload(
        &app,
        &alice,
        &project,
        &[("a.md", b"# A\n"), ("b.md", b"# B\n")],
    )
    .await;
    let id = |i: usize| {
        reply.body["files"][i]["file_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (a, b) = (id(0), id(1));
    let deleted = call(&app, &alice, "DELETE", &format!("/api/files/{a}"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    // The list shows no a.md, so the name is free: b.md takes it.
    let rename = json!({"version": 1, "path": "a.md"});
    let renamed = call(
        &app,
        &alice,
        "PUT",
        &format!("/api/files/{b}"),
        Some(rename),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["path"], "a.md");
    // An upload to the name updates the live file, not the deleted one.
    let again = upload(&app, &alice, &project, &[("a.md", b"# B, edited\n")]).await;
    assert_eq!(
        (
            &again.body["files"][0]["outcome"],
            &again.body["files"][0]["file_id"]
        ),
        (&json!("updated"), &json!(b)),
        "{}",
        again.text
    );
    // The deleted file keeps its history; restoring it while its name is taken says so.
    let restore = call(
        &app,
        &alice,
        "POST",
        &format!("/api/files/{a}/restore"),
        Some(json!({})),
    )
    .await;
    assert_eq!(restore.status, StatusCode::CONFLICT, "{}", restore.text);
    assert_eq!(restore.body["code"], "name_taken");
    let message = restore.body["detail"].as_str().unwrap();
    assert!(
        message.contains("\"a.md\"") && message.contains("rename"),
        "{message}"
    );
    // Once the name is free again, it comes back.
    let moved = json!({"version": 3, "path": "b.md"});
    let moved = call(&app, &alice, "PUT", &format!("/api/files/{b}"), Some(moved)).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let restore = call(
        &app,
        &alice,
        "POST",
        &format!("/api/files/{a}/restore"),
        Some(json!({})),
    )
    .await;
    assert_eq!(restore.status, StatusCode::OK, "{}", restore.text);
    assert_eq!(restore.body["path"], "a.md");
}

#[tokio::test]
async fn deleted_files_leave_search_and_counters_and_can_be_restored() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let reply = upload(&app, &alice, &project, &[("web/profile.js", JS)]).await;
    let id = reply.body["files"][0]["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    indexed(&app, &alice, &project).await;
    assert_eq!(
        search(&app, &alice, &project, "loadUserProfile")
            .await
            .len(),
        1
    );

    let deleted = call(&app, &alice, "DELETE", &format!("/api/files/{id}"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert!(
        search(&app, &alice, &project, "loadUserProfile")
            .await
            .is_empty()
    );
    let list = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/files"),
        None,
    )
    .await;
    assert_eq!(list.body, json!([]));
    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["file_count"], 0);
    let edit = call(
        &app,
        &alice,
        "PUT",
        &format!("/api/files/{id}"),
        Some(json!({"version": 1, "content": "x"})),
    )
    .await;
    assert_eq!(edit.status, StatusCode::CONFLICT);

    let back = call(
        &app,
        &alice,
        "POST",
        &format!("/api/files/{id}/restore"),
        Some(json!({})),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_eq!(back.body["deleted_at"], Value::Null);
    indexed(&app, &alice, &project).await;
    assert_eq!(
        search(&app, &alice, &project, "loadUserProfile")
            .await
            .len(),
        1
    );
    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["file_count"], 1);

    // Deleted long enough ago, a file is purged for good with its history.
    let history = async || {
        app.services
            .db
            .query("SELECT count() FROM file_version GROUP ALL")
            .await
            .unwrap()
            .take::<Option<i64>>("count")
            .unwrap()
            .unwrap_or(0)
    };
    let edit = json!({"version": 1, "content": "export const x = 1;\n"});
    call(&app, &alice, "PUT", &format!("/api/files/{id}"), Some(edit)).await;
    assert_eq!(history().await, 1);
    call(&app, &alice, "DELETE", &format!("/api/files/{id}"), None).await;
    let indexer = app.services.files.indexer().await.unwrap();
    let retention = std::time::Duration::from_secs(3600);
    assert_eq!(
        indexer.purge(retention).await.unwrap(),
        0,
        "deleted just now: kept"
    );
    app.services
        .db
        .query("UPDATE type::record('file', $id) SET deleted_at = time::now() - 2h")
        .bind(("id", id.clone()))
        .await
        .unwrap()
        .check()
        .unwrap();
    assert_eq!(indexer.purge(retention).await.unwrap(), 1);
    let gone = call(&app, &alice, "GET", &format!("/api/files/{id}"), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(history().await, 0, "its history went with it");
}

#[tokio::test]
async fn path_globs_with_symbols_and_angle_brackets_find_their_file() {
    // shared/cases/10-path-glob-unicode: these were 500s, or `<`/`>` acted as word
    // boundaries.
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let files: [(&str, &[u8]); 3] = [
        (
            "notes/🚀 launch – plan.md",
            b"# Launch plan\n\nRollout checklist: freeze the release branch, then tag it.\n",
        ),
        (
            "notes/<draft>.md",
            b"# Draft\n\nRollout checklist draft, not final.\n",
        ),
        (
            "notes/plain.md",
            b"# Plain notes\n\nRollout checklist reference copy.\n",
        ),
    ];
    let reply = upload(&app, &alice, &project, &files).await;
    assert_eq!(reply.body["created"], 3, "{}", reply.text);
    indexed(&app, &alice, &project).await;
    for (glob, expected) in [
        ("notes/🚀*", "notes/🚀 launch – plan.md"),
        ("*–*", "notes/🚀 launch – plan.md"),
        ("notes/<draft>.md", "notes/<draft>.md"),
    ] {
        let encoded: String = form_urlencoded::byte_serialize(glob.as_bytes()).collect();
        let reply = call(
            &app,
            &alice,
            "GET",
            &format!("/api/projects/{project}/search?q=rollout&path={encoded}"),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{glob}: {}", reply.text);
        let paths: Vec<&str> = reply.body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|hit| hit["path"].as_str())
            .collect();
        assert_eq!(paths, [expected], "{glob}");
    }
}

#[tokio::test]
async fn search_matches_identifiers_split_by_case_with_filters_and_highlights() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    upload(
        &app,
        &alice,
        &project,
        &[("src/config.rs", RUST), ("web/profile.js", JS)],
    )
    .await;
    indexed(&app, &alice, &project).await;

    for query in ["parseHttpConfig", "parse http config", "HTTP_CONFIG"] {
        let hits = search(&app, &alice, &project, query).await;
        assert_eq!(hits.len(), 1, "{query}: {hits:?}");
        assert_eq!(hits[0]["path"], "src/config.rs");
        assert_eq!(hits[0]["start_line"], 1);
    }
    let called = search(&app, &alice, &project, "loadUserProfile(id) {").await;
    assert_eq!(
        called.len(),
        1,
        "punctuation in a query is not a word: {called:?}"
    );
    let hits = search(&app, &alice, &project, "user_profile").await;
    assert_eq!(hits[0]["path"], "web/profile.js");
    let text = hits[0]["text"].as_str().unwrap();
    let marked: Vec<&str> = hits[0]["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|range| {
            &text[range[0].as_u64().unwrap() as usize..range[1].as_u64().unwrap() as usize]
        })
        .collect();
    assert_eq!(marked, ["User", "Profile"]);

    let filtered = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/search?q=config&language=javascript"),
        None,
    )
    .await;
    assert_eq!(filtered.body["hits"], json!([]));
    let globbed = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/search?q=id&path=web/**"),
        None,
    )
    .await;
    let paths: Vec<&str> = globbed.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["web/profile.js"]);
    let empty = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/search?q=%3A%3A"),
        None,
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    let context = app
        .services
        .files
        .retrieve(&scope(&app, &alice, &project).await, "user profile", 1000)
        .await
        .unwrap();
    assert_eq!(context[0].path, "web/profile.js");
    // A pasted blob among the words is no query of its own and spoils nothing.
    let blob = "Q".repeat(600);
    let pasted = app
        .services
        .files
        .retrieve(
            &scope(&app, &alice, &project).await,
            &format!("user profile {blob}"),
            1000,
        )
        .await
        .unwrap();
    assert_eq!(pasted[0].path, "web/profile.js");
    let none = app
        .services
        .files
        .retrieve(&scope(&app, &alice, &project).await, "user profile", 2)
        .await
        .unwrap();
    assert!(none.is_empty(), "nothing fits a 2-token budget");
}

/// The user's project as services take it (transports make it the same way).
async fn scope(app: &TestApp, user: &Account, project: &str) -> kiln_core::access::ProjectScope {
    let principal = app
        .services
        .auth
        .verify_access_token(&user.access_token)
        .unwrap();
    kiln_core::access::project(&app.services.db, &principal, project)
        .await
        .unwrap()
}

#[tokio::test]
async fn strangers_cannot_touch_files_and_archived_projects_are_read_only() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let mallory = app.register("mallory@example.com").await;
    let project = project(&app, &alice).await;
    let reply = upload(&app, &alice, &project, &[("a.rs", RUST)]).await;
    let id = reply.body["files"][0]["file_id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        upload(&app, &mallory, &project, &[("b.rs", RUST)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    for (method, uri, body) in [
        ("GET", format!("/api/files/{id}"), None),
        (
            "PUT",
            format!("/api/files/{id}"),
            Some(json!({"version": 1, "content": "pwned"})),
        ),
        (
            "PUT",
            format!("/api/files/{id}"),
            Some(json!({"garbage": true})),
        ),
        ("DELETE", format!("/api/files/{id}"), None),
        ("GET", format!("/api/files/{id}/versions"), None),
        ("GET", format!("/api/files/{id}/versions/1"), None),
        ("GET", format!("/api/files/{id}/diff?from=1"), None),
        (
            "POST",
            format!("/api/files/{id}/restore"),
            Some(json!({"version": 1})),
        ),
        ("GET", format!("/api/projects/{project}/files"), None),
        (
            "GET",
            format!("/api/projects/{project}/search?q=config"),
            None,
        ),
        ("GET", format!("/api/projects/{project}/index-status"), None),
    ] {
        let reply = call(&app, &mallory, method, &uri, body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            reply.text
        );
    }
    let missing = call(&app, &alice, "GET", "/api/files/nope", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let anonymous = app.send(get(&format!("/api/files/{id}"))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let archived = call(
        &app,
        &alice,
        "POST",
        &format!("/api/projects/{project}/status"),
        Some(json!({"status": "archived"})),
    )
    .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    assert_eq!(
        upload(&app, &alice, &project, &[("b.rs", RUST)])
            .await
            .status,
        StatusCode::CONFLICT
    );
    let edit = call(
        &app,
        &alice,
        "PUT",
        &format!("/api/files/{id}"),
        Some(json!({"version": 1, "content": "x"})),
    )
    .await;
    assert_eq!(edit.status, StatusCode::CONFLICT);
}
