//! The `kiln` binary as an operator uses it: real process, real SurrealKV data dir.

use crate::support;

use std::process::{Command, Output};

use support::{free_port, http_get, kiln, run, serve, stdout};

#[test]
fn migrate_status_up_and_down() {
    let data = tempfile::tempdir().unwrap();
    let status = stdout(&run(kiln(data.path()).args(["migrate", "status"])));
    assert!(
        status.contains("0001_users_and_projects") && status.contains("pending"),
        "{status}"
    );
    let migrations = kiln_core::migrations::bundled();
    let applied = format!("applied {} migration", migrations.len());
    assert!(stdout(&run(kiln(data.path()).args(["migrate", "up"]))).contains(&applied));
    let status = stdout(&run(kiln(data.path()).args(["migrate", "status"])));
    assert!(
        status.contains("applied") && !status.contains("pending"),
        "{status}"
    );
    assert!(
        stdout(&run(kiln(data.path()).args(["migrate", "down"]))).contains(&format!(
            "reverted migration {:04}",
            migrations[migrations.len() - 1].version
        ))
    );
    assert!(stdout(&run(kiln(data.path()).args(["migrate", "status"]))).contains("pending"));
}

/// `kiln serve` pointed at a SurrealDB server that is not there.
fn serve_without_database(environment: &str) -> Output {
    let data = tempfile::tempdir().unwrap();
    let output = kiln(data.path())
        .env("KILN_ENV", environment)
        .env(
            "KILN_JWT_KEYS",
            "k1:a-long-random-secret-for-this-test-only",
        )
        .env("DATABASE_URL", format!("ws://127.0.0.1:{}", free_port()))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()))
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success(), "serve must exit with an error");
    output
}

#[test]
fn serve_fails_fast_when_the_database_cannot_be_opened() {
    let output = serve_without_database("development");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open the database"), "{stderr}");
}

#[test]
fn production_refuses_to_start_with_unsafe_security_settings() {
    for (key, value, complaint) in [
        ("KILN_JWT_KEYS", "", "KILN_JWT_KEYS is not set"),
        ("KILN_JWT_KEYS", "k1:changeme", "well-known default secret"),
        ("KILN_JWT_KEYS", "k1:short", "shorter than 32 bytes"),
        ("CORS_ORIGINS", "*", "CORS_ORIGINS=*"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let mut command = kiln(data.path());
        command
            .env("KILN_ENV", "production")
            .env(
                "KILN_JWT_KEYS",
                "k1:a-long-random-secret-for-this-test-only",
            )
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()));
        if value.is_empty() {
            command.env_remove(key);
        } else {
            command.env(key, value);
        }
        let output = command.arg("serve").output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{key}={value} must be refused");
        assert!(stderr.contains(complaint), "{key}={value}: {stderr}");
        assert!(
            !stderr.contains("a-long-random-secret"),
            "the key leaked: {stderr}"
        );
    }
}

#[test]
fn production_logs_are_json_lines() {
    let output = serve_without_database("production");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let error = lines
        .iter()
        .find(|l| l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no ERROR line on stderr: {stderr}"));
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot open the database"), "{error}");
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, addr, log) = serve(&mut kiln(data.path()));
    let response = http_get(&addr, "/health/ready");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");

    // A second process on the same data dir is refused: SurrealKV locks it.
    let second = kiln(data.path())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()))
        .arg("serve")
        .output()
        .unwrap();
    assert!(
        !second.status.success(),
        "a second server must not share the data dir"
    );

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.0.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    log.wait_for("Kiln stopped");
}
