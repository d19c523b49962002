//! Kiln on a real SurrealDB server (`DATABASE_URL=ws://…`), built by `make surreal-server`.

use crate::support;

use std::{
    path::PathBuf,
    process::{Command, Stdio},
};

use support::{LogLines, Server, free_port, http_get, kiln, run, serve, stdout, wait_for_listener};

const PASSWORD: &str = "kiln-test-password";

fn surreal_server_binary() -> PathBuf {
    let path = PathBuf::from(std::env::var("KILN_SURREAL_SERVER").unwrap_or_else(|_| {
        format!(
            "{}/../target/surreal-server/release/kiln-test-surreal-server",
            env!("CARGO_MANIFEST_DIR")
        )
    }));
    assert!(
        path.exists(),
        "{} is missing: run `make surreal-server` (or set KILN_SURREAL_SERVER)",
        path.display()
    );
    path
}

/// A SurrealDB server on a free port, in memory, ready for connections.
fn start_surreal() -> (Server, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = Server(
        Command::new(surreal_server_binary())
            .args([
                "start", "--bind", &addr, "--user", "root", "--pass", PASSWORD,
            ])
            .arg("memory")
            .env("SURREAL_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    LogLines::follow(server.0.stdout.take().unwrap()).wait_for("Started web server");
    // The server logs that line just before it binds the socket.
    wait_for_listener(&addr);
    (server, format!("ws://{addr}"))
}

#[test]
fn kiln_migrates_serves_and_reports_readiness_on_a_surrealdb_server() {
    let (mut surreal, url) = start_surreal();
    let data = tempfile::tempdir().unwrap();
    let remote = |command: &mut Command| {
        command
            .env("DATABASE_URL", &url)
            .env("DATABASE_USER", "root")
            .env("DATABASE_PASSWORD", PASSWORD);
    };

    let mut wrong = kiln(data.path());
    remote(&mut wrong);
    let refused = wrong
        .env("DATABASE_PASSWORD", "wrong")
        .args(["migrate", "status"])
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "a wrong password must be refused"
    );

    let mut up = kiln(data.path());
    remote(&mut up);
    let applied = format!(
        "applied {} migration",
        kiln_core::migrations::bundled().len()
    );
    assert!(stdout(&run(up.args(["migrate", "up"]))).contains(&applied));

    let mut command = kiln(data.path());
    remote(&mut command);
    let (mut kiln_server, addr, _log) = serve(&mut command);
    // As an orchestrator's probe would: ready within 10 s (the first round trip on a
    // loaded machine can miss the 2 s ping bound).
    let started = std::time::Instant::now();
    loop {
        let ready = http_get(&addr, "/health/ready");
        if ready.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(started.elapsed().as_secs() < 10, "never ready: {ready}");
    }

    // The database goes away: Kiln stays up and says it is not ready.
    surreal.0.kill().unwrap();
    surreal.0.wait().unwrap();
    let ready = http_get(&addr, "/health/ready");
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.contains(r#""type":"service_unavailable""#), "{ready}");
    assert!(http_get(&addr, "/health").starts_with("HTTP/1.1 200"));
    kiln_server.0.kill().unwrap();
}
