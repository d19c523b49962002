//! The `kiln` binary as an operator uses it: real process, real SurrealKV data dir.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

fn kiln(data: &tempfile::TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "DATABASE_URL",
            format!("surrealkv://{}", data.path().join("db").display()),
        )
        .env("KILN_CONFIG", data.path().join("absent.toml"))
        .env(
            "KILN_PLUGIN_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/dist"),
        )
        .env("RUST_LOG", "info");
    command
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn migrate_status_up_and_down() {
    let data = tempfile::tempdir().unwrap();
    let status = stdout(&run(kiln(&data).args(["migrate", "status"])));
    assert!(
        status.contains("0001_users_and_projects") && status.contains("pending"),
        "{status}"
    );
    assert!(stdout(&run(kiln(&data).args(["migrate", "up"]))).contains("applied 1"));
    let status = stdout(&run(kiln(&data).args(["migrate", "status"])));
    assert!(
        status.contains("applied") && !status.contains("pending"),
        "{status}"
    );
    assert!(
        stdout(&run(kiln(&data).args(["migrate", "down"]))).contains("reverted migration 0001")
    );
    assert!(stdout(&run(kiln(&data).args(["migrate", "status"]))).contains("pending"));
}

/// `kiln serve` pointed at a SurrealDB server that is not there.
fn serve_without_database(environment: &str) -> Output {
    let data = tempfile::tempdir().unwrap();
    let output = kiln(&data)
        .env("KILN_ENV", environment)
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
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = Server(
        kiln(&data)
            .env("LEPTOS_SITE_ADDR", &addr)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_for_log(&mut server.0, "Kiln is serving");
    let response = http_get(&addr, "/health/ready");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");

    // A second process on the same data dir is refused: SurrealKV locks it.
    let second = kiln(&data)
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
    let mut rest = String::new();
    server
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    assert!(rest.contains("Kiln stopped"), "{rest}");
}

/// Kills the server if a test fails before it stops it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Reads the server's log until `needle` appears (or the process ends).
fn wait_for_log(child: &mut Child, needle: &str) {
    let stderr = child.stderr.as_mut().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains(needle) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "server did not start"
        );
    }
    panic!("server exited before logging {needle:?}");
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
