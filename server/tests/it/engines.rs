//! The embedded engines: a data directory of one engine is never opened as the other
//! (that would start an empty database beside it), and `kiln convert` carries a whole
//! database — accounts, projects, files, their history and search — into a new one.

use crate::support;

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use support::{alice_with_project, http, http_json, kiln, run, serve, stdout};

const KEYS: &str = "k1:a-long-random-secret-for-the-engines-test";

fn on(url: &str, data: &Path) -> Command {
    let mut command = kiln(data);
    command.env("DATABASE_URL", url).env("KILN_JWT_KEYS", KEYS);
    command
}

fn upload(addr: &str, token: &str, project: &str, path: &str, text: &str) {
    let boundary = "engines-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path}\"\r\n\r\n{text}\r\n--{boundary}--\r\n"
    );
    let uploaded = http(
        addr,
        "POST",
        &format!("/api/projects/{project}/files"),
        Some(token),
        &format!("multipart/form-data; boundary={boundary}"),
        body.as_bytes(),
    );
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
}

/// The paths search finds for `query`, once the project's backlog is indexed.
fn search(addr: &str, token: &str, project: &str, query: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = http(
            addr,
            "GET",
            &format!("/api/projects/{project}/index-status"),
            Some(token),
            "text/plain",
            b"",
        );
        if status.body["queued"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "not indexed: {}", status.text);
        std::thread::sleep(Duration::from_millis(20));
    }
    let hits = http(
        addr,
        "GET",
        &format!("/api/projects/{project}/search?q={query}"),
        Some(token),
        "text/plain",
        b"",
    );
    assert_eq!(hits.status, 200, "{}", hits.text);
    hits.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["path"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_surrealkv_directory_is_refused_as_rocksdb_and_kiln_convert_copies_it_whole() {
    let data = tempfile::tempdir().unwrap();
    let old = format!("surrealkv://{}", data.path().join("old").display());
    let new = format!("rocksdb://{}", data.path().join("new").display());

    let (token, project) = {
        let (_server, addr, _log) = serve(&mut on(&old, data.path()));
        let (token, project) = alice_with_project(&addr, "carried");
        upload(
            &addr,
            &token,
            &project,
            "src/lib.rs",
            "pub fn first_marker() {}\n",
        );
        upload(
            &addr,
            &token,
            &project,
            "src/lib.rs",
            "pub fn second_marker() {}\n",
        );
        assert_eq!(
            search(&addr, &token, &project, "second_marker"),
            ["src/lib.rs"]
        );
        (token, project)
    };

    // The same directory under the other engine: refused, naming the way out.
    let wrong = format!("rocksdb://{}", data.path().join("old").display());
    let refused = on(&wrong, data.path()).arg("serve").output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("holds a SurrealKV database"), "{said}");
    assert!(said.contains("kiln convert --to rocksdb://"), "{said}");
    assert!(
        !data.path().join("old/CURRENT").exists(),
        "RocksDB wrote into it"
    );

    let converted = run(on(&old, data.path()).args(["convert", "--to", &new]));
    assert!(
        stdout(&converted).contains("copied"),
        "{}",
        stdout(&converted)
    );
    // Never into a database that exists.
    let again = on(&old, data.path())
        .args(["convert", "--to", &new])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let (_server, addr, _log) = serve(&mut on(&new, data.path()));
    // The access token of the old database still names the same account and project.
    assert_eq!(
        search(&addr, &token, &project, "second_marker"),
        ["src/lib.rs"]
    );
    assert!(search(&addr, &token, &project, "first_marker").is_empty());
    let login = http_json(
        &addr,
        "POST",
        "/api/auth/login",
        None,
        &serde_json::json!({"email": "alice@example.com", "password": "correct horse battery"}),
    );
    assert_eq!(login.status, 200, "{}", login.text);
    let files = http(
        &addr,
        "GET",
        &format!("/api/projects/{project}/files"),
        Some(&token),
        "text/plain",
        b"",
    );
    let file = files.body[0]["id"].as_str().unwrap().to_owned();
    let versions = http(
        &addr,
        "GET",
        &format!("/api/files/{file}/versions"),
        Some(&token),
        "text/plain",
        b"",
    );
    assert_eq!(versions.status, 200, "{}", versions.text);
    assert_eq!(
        versions.body.as_array().map(Vec::len),
        Some(2),
        "{}",
        versions.text
    );
}
