//! Durable indexing across a real crash and a real shutdown: `kiln serve` is killed
//! (or told to stop) while its indexer is half-way through a backlog, started again on
//! the same data, and finishes the job without losing or doubling anything.

use crate::support;

use std::time::{Duration, Instant};

use support::{HttpReply, LogLines, Server, alice_with_project, http, kiln, serve};

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

/// A served Kiln with [`FILES`] uploaded, the moment some but not all are indexed.
fn half_indexed(data: &std::path::Path) -> (Server, String, LogLines, String, String) {
    let (server, addr, log) = serve(kiln(data).env("KILN_JWT_KEYS", KEYS));
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

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = index_status(&addr, &token, &project).body;
        if status["indexed"].as_u64() > Some(0) {
            assert!(
                status["queued"].as_u64() > Some(0),
                "the backlog drained too early: {status}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing indexed within 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (server, addr, log, token, project)
}

/// Restarts Kiln on `data` and waits until the backlog is drained; checks every file
/// is indexed once and searchable.
fn restart_and_finish(data: &std::path::Path, token: &str, project: &str) {
    // The indexer starts before the server serves.
    let (_server, addr, _log) = serve(kiln(data).env("KILN_JWT_KEYS", KEYS));
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        let status = index_status(&addr, token, project).body;
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
            Some(token),
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

#[test]
fn a_killed_server_resumes_its_indexing_backlog_on_restart() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, _addr, _log, token, project) = half_indexed(data.path());
    server.0.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.0.wait().unwrap();
    drop(server);
    restart_and_finish(data.path(), &token, &project);
}

#[test]
fn sigterm_stops_a_busy_indexer_promptly_and_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, _addr, log, token, project) = half_indexed(data.path());
    let asked = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // Bounded: the HTTP drain plus at most the 10 s the jobs get; a hang fails here.
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(30),
            "kiln serve did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "kiln serve exited with {status}");
    log.wait_for("indexer stopped");
    log.wait_for("Kiln stopped");
    drop(server);
    restart_and_finish(data.path(), &token, &project);
}
