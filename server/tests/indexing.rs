//! Durable indexing across a real crash: `kiln serve` is killed while its indexer is
//! half-way through a backlog, started again on the same data, and finishes the job
//! without losing or doubling anything.

mod support;

use std::time::{Duration, Instant};

use support::{HttpReply, alice_with_project, http, kiln, serve};

const KEYS: &str = "k1:a-long-random-secret-for-the-restart-test";
const FILES: usize = 120;

fn index_status(addr: &str, token: &str, project: &str) -> HttpReply {
    let reply = http(
        addr,
        "GET",
        &format!("/api/projects/{project}/index-status"),
        Some(token),
        "text/plain",
        b"",
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply
}

/// Rust source of about 40 KiB with a marker only this file has.
fn source(index: usize) -> String {
    let mut text = String::new();
    for function in 0..400 {
        text.push_str(&format!(
            "/// Part {function} of file {index}.\npub fn unique_marker_{index}_{function}(value: u64) -> u64 {{\n    value * {function}\n}}\n\n"
        ));
    }
    text
}

fn upload_body(boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for index in 0..FILES {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"src/file_{index}.rs\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(source(index).as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[test]
fn a_killed_server_resumes_its_indexing_backlog_on_restart() {
    let data = tempfile::tempdir().unwrap();
    let (server, addr, _log) = serve(kiln(data.path()).env("KILN_JWT_KEYS", KEYS));
    let (token, project) = alice_with_project(&addr, "big");

    let boundary = "restart-boundary";
    let uploaded = http(
        &addr,
        "POST",
        &format!("/api/projects/{project}/files"),
        Some(&token),
        &format!("multipart/form-data; boundary={boundary}"),
        &upload_body(boundary),
    );
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
    assert_eq!(uploaded.body["created"], FILES);

    // Kill it the moment some, but not all, of the files are indexed.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = index_status(&addr, &token, &project).body;
        if status["indexed"].as_u64() > Some(0) {
            assert!(
                status["queued"].as_u64() > Some(0),
                "the backlog drained before the kill: {status}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing indexed within 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut server = server;
    server.0.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.0.wait().unwrap();
    drop(server);

    // The indexer starts before the server serves.
    let (_server, addr, _log) = serve(kiln(data.path()).env("KILN_JWT_KEYS", KEYS));
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        let status = index_status(&addr, &token, &project).body;
        if status["queued"] == 0 {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the backlog did not drain: {status}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status["indexed"], FILES, "{status}");
    assert_eq!(status["failed"], 0, "{status}");

    // Every file searchable, each chunk once.
    for index in [0, FILES / 2, FILES - 1] {
        let hits = http(
            &addr,
            "GET",
            &format!("/api/projects/{project}/search?q=unique_marker_{index}_7&limit=50"),
            Some(&token),
            "text/plain",
            b"",
        );
        assert_eq!(hits.status, 200, "{}", hits.text);
        let hits = hits.body["hits"].as_array().unwrap().clone();
        let in_file: Vec<_> = hits
            .iter()
            .filter(|h| h["path"] == format!("src/file_{index}.rs"))
            .collect();
        assert!(!in_file.is_empty(), "file {index} not found");
        let mut spans: Vec<(u64, u64)> = in_file
            .iter()
            .map(|h| {
                (
                    h["start_line"].as_u64().unwrap(),
                    h["end_line"].as_u64().unwrap(),
                )
            })
            .collect();
        let before = spans.len();
        spans.sort_unstable();
        spans.dedup();
        assert_eq!(spans.len(), before, "duplicated chunks in file {index}");
    }
}
