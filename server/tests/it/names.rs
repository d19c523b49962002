//! File names as users see them: two Unicode spellings of one name are one file,
//! errors about a name say which name, and macOS Finder metadata is never stored —
//! in archives and plain uploads alike. Inputs from `shared/cases/08` and `09`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::files::{call, project, upload};
use crate::support::app::{Account, TestApp};

fn case(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/data/cases")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(path, outcome)` of each file of an upload report, sorted.
fn outcomes(report: &Value) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let field = |name: &str| f[name].as_str().unwrap().to_owned();
            (field("path"), field("outcome"))
        })
        .collect();
    all.sort();
    all
}

async fn paths(app: &TestApp, user: &Account, project: &str) -> Vec<String> {
    let uri = format!("/api/projects/{project}/files");
    let list = call(app, user, "GET", &uri, None).await;
    list.body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

fn pair(path: &str, outcome: &str) -> (String, String) {
    (path.to_owned(), outcome.to_owned())
}

#[tokio::test]
async fn os_metadata_is_skipped_and_reported_at_any_depth() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;

    let zip = upload(
        &app,
        &alice,
        &project,
        &[("mac_finder.zip", &case("mac_finder.zip"))],
    )
    .await;
    assert_eq!(zip.status, StatusCode::OK, "{}", zip.text);
    assert_eq!(
        outcomes(&zip.body),
        [
            pair("__MACOSX/proj/._main.py", "skipped"),
            pair("proj/.DS_Store", "skipped"),
            pair("proj/main.py", "created"),
        ]
    );
    assert_eq!(
        (&zip.body["created"], &zip.body["skipped"]),
        (&json!(1), &json!(2))
    );

    let tar = case("mac_folder.tar.gz");
    let tar = upload(&app, &alice, &project, &[("mac_folder.tar.gz", &tar)]).await;
    assert_eq!(
        outcomes(&tar.body),
        [
            pair("proj/.DS_Store", "skipped"),
            pair("proj/._main.py", "skipped"),
            pair("proj/main.py", "duplicate"),
            pair("proj/src/._util.py", "skipped"),
            pair("proj/src/util.py", "created"),
        ],
        "{}",
        tar.text
    );
    // A folder picked in the browser sends the same junk as plain files (and Windows
    // adds its own).
    let plain = upload(
        &app,
        &alice,
        &project,
        &[
            ("notes/.DS_Store", b"\0\0\0\x01Bud1"),
            ("notes/._todo.md", b"\0\x05\x16\x07"),
            ("notes/Thumbs.db", b"\xd0\xcf\x11\xe0"),
            ("notes/desktop.ini", b"[.ShellClassInfo]\r\n"),
            ("notes/todo.md", b"# Todo\n"),
        ],
    )
    .await;
    assert_eq!(
        (&plain.body["created"], &plain.body["skipped"]),
        (&json!(1), &json!(4)),
        "{}",
        plain.text
    );

    assert_eq!(
        paths(&app, &alice, &project).await,
        ["notes/todo.md", "proj/main.py", "proj/src/util.py"]
    );
    let stats = call(
        &app,
        &alice,
        "GET",
        &format!("/api/projects/{project}/stats"),
        None,
    )
    .await;
    assert_eq!(stats.body["file_count"], 3, "{}", stats.text);
}

#[tokio::test]
async fn two_spellings_of_a_name_are_one_file_and_refusals_name_the_entry() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let (nfc, nfd) = ("docs/caf\u{e9}.md", "docs/cafe\u{301}.md");

    let linux = upload(
        &app,
        &alice,
        &project,
        &[(nfc, b"# Cafe notes\n\nWritten on Linux.\n")],
    )
    .await;
    assert_eq!(
        linux.body["files"][0]["outcome"], "created",
        "{}",
        linux.text
    );
    let mac = upload(
        &app,
        &alice,
        &project,
        &[(nfd, b"# Cafe notes\n\nEdited on a Mac.\n")],
    )
    .await;
    assert_eq!(
        (
            &mac.body["files"][0]["outcome"],
            &mac.body["files"][0]["path"],
            &mac.body["files"][0]["file_id"]
        ),
        (
            &json!("updated"),
            &json!(nfc),
            &linux.body["files"][0]["file_id"]
        ),
        "{}",
        mac.text
    );
    assert_eq!(paths(&app, &alice, &project).await, [nfc]);

    // One archive with both spellings names one path twice.
    let both = upload(
        &app,
        &alice,
        &project,
        &[("nfc_nfd.zip", &case("nfc_nfd.zip"))],
    )
    .await;
    assert_eq!(
        both.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        both.text
    );
    assert!(
        both.body["detail"].as_str().unwrap().contains(nfc),
        "{}",
        both.text
    );
    // A name too long to store is named in the refusal.
    let long = upload(
        &app,
        &alice,
        &project,
        &[("long_name.zip", &case("long_name.zip"))],
    )
    .await;
    assert_eq!(
        long.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        long.text
    );
    let detail = long.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("tests/fixtures/snapshot_xxx") && detail.contains("255 bytes"),
        "{detail}"
    );
    assert_eq!(
        paths(&app, &alice, &project).await,
        [nfc],
        "nothing stored from refused uploads"
    );

    // Renaming onto the other spelling of a taken name is taking that name.
    let other = upload(&app, &alice, &project, &[("docs/other.md", b"# Other\n")]).await;
    let other = other.body["files"][0]["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rename = json!({"version": 1, "path": nfd});
    let taken = call(
        &app,
        &alice,
        "PUT",
        &format!("/api/files/{other}"),
        Some(rename),
    )
    .await;
    assert_eq!(
        (taken.status, &taken.body["code"]),
        (StatusCode::CONFLICT, &json!("name_taken")),
        "{}",
        taken.text
    );
    assert!(
        taken.body["detail"].as_str().unwrap().contains(nfc),
        "{}",
        taken.text
    );

    // Words are text too: decomposed content is found by a composed query, and back.
    let decomposed = "pub fn gro\u{308}sse() {}\n// Gro\u{308}\u{df}e der Datei\n";
    upload(
        &app,
        &alice,
        &project,
        &[("src/size.rs", decomposed.as_bytes())],
    )
    .await;
    crate::files::indexed(&app, &alice, &project).await;
    for query in ["Gr%C3%B6%C3%9Fe", "Gro%CC%88%C3%9Fe"] {
        let uri = format!("/api/projects/{project}/search?q={query}");
        let hits = call(&app, &alice, "GET", &uri, None).await;
        assert_eq!(
            hits.body["hits"].as_array().map(Vec::len),
            Some(1),
            "{query}: {}",
            hits.text
        );
    }
}

#[tokio::test]
async fn a_rename_can_change_the_language() {
    let app = TestApp::new().await;
    let alice = app.register("alice@example.com").await;
    let project = project(&app, &alice).await;
    let reply = upload(&app, &alice, &project, &[("notes.txt", b"# Notes\n")]).await;
    let id = reply.body["files"][0]["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rename = json!({"version": 1, "path": "notes.md"});
    let renamed = call(
        &app,
        &alice,
        "PUT",
        &format!("/api/files/{id}"),
        Some(rename),
    )
    .await;
    assert_eq!(
        (&renamed.body["path"], &renamed.body["language"]),
        (&json!("notes.md"), &json!("markdown")),
        "{}",
        renamed.text
    );
}
