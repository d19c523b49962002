//! Helpers for tests that run the real `kiln` binary (and other real servers).
#![allow(dead_code)] // each test crate uses its own subset

pub mod app;
pub mod fake_llm;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

/// `kiln` with its data in `data`, the bundled plugins, and no config file.
pub fn kiln(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "DATABASE_URL",
            format!("rocksdb://{}", data.join("db").display()),
        )
        .env("KILN_CONFIG", data.join("absent.toml"))
        .env(
            "KILN_PLUGIN_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/dist"),
        )
        .env("RUST_LOG", "info");
    command
}

pub fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts `command` as `kiln serve` on a free port and waits until it serves.
/// Returns the process, its address and its log.
pub fn serve(command: &mut Command) -> (Server, String, LogLines) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = Server(
        command
            .env("LEPTOS_SITE_ADDR", &addr)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let log = LogLines::follow(server.0.stderr.take().unwrap());
    log.wait_for("Kiln is serving");
    (server, addr, log)
}

/// Kills the server if a test fails before it stops it.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The lines a process writes to one of its pipes, read on a thread so the process
/// never blocks on a full pipe and a silent process cannot hang the test.
pub struct LogLines(Receiver<String>);

impl LogLines {
    pub fn follow(stream: impl Read + Send + 'static) -> Self {
        let (lines, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after the test stopped listening: a process writing to a
            // closed pipe would fail.
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        Self(receiver)
    }

    /// Waits (at most two minutes) for a line containing `needle`.
    pub fn wait_for(&self, needle: &str) {
        self.lines_until(needle);
    }

    /// The lines up to and including the first containing `needle` (at most two
    /// minutes).
    pub fn lines_until(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(line) if line.contains(needle) => {
                    lines.push(line);
                    return lines;
                }
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Timeout) => panic!("no {needle:?} within 2 minutes"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the process closed its output before {needle:?}")
                }
            }
        }
    }
}

/// Retries a TCP connection to `addr` until it is accepted (bounded: 10 s).
pub fn wait_for_listener(addr: &str) {
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing listens on {addr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn http_get(addr: &str, path: &str) -> String {
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

/// An answer of [`http`].
pub struct HttpReply {
    pub status: u16,
    pub body: serde_json::Value,
    pub text: String,
}

/// One HTTP/1.1 request over a fresh connection, bearer-authenticated when a token
/// is given.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> HttpReply {
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut payload = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        payload = dechunk(&payload);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&payload).into_owned();
    HttpReply {
        status,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        text,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// JSON over [`http`].
pub fn http_json(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> HttpReply {
    http(
        addr,
        method,
        path,
        token,
        "application/json",
        body.to_string().as_bytes(),
    )
}

/// Registers alice on a running Kiln and creates a project named `name`: her access
/// token and the project's id.
pub fn alice_with_project(addr: &str, name: &str) -> (String, String) {
    let credentials =
        serde_json::json!({"email": "alice@example.com", "password": "correct horse battery"});
    let registered = http_json(addr, "POST", "/api/auth/register", None, &credentials);
    assert_eq!(registered.status, 201, "{}", registered.text);
    let token = registered.body["access_token"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "name": name });
    let created = http_json(addr, "POST", "/api/projects", Some(&token), &body);
    assert_eq!(created.status, 201, "{}", created.text);
    let project = created.body["id"].as_str().unwrap().to_owned();
    (token, project)
}
