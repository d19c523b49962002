//! Logs: human-readable in development, JSON lines in production. Always on stderr, so
//! stdout stays the CLI's output. Every line passes a redaction filter first: secrets
//! from the configuration, tokens, and credential-looking fields never reach a log.

use std::{borrow::Cow, io, sync::Arc};

use regex::Regex;
use tracing_subscriber::{EnvFilter, fmt, fmt::MakeWriter, prelude::*};

use crate::config::{Config, Environment};

pub fn init(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,kiln=debug"));
    let mut secrets: Vec<Vec<u8>> = config.auth.secrets().map(<[u8]>::to_vec).collect();
    secrets.extend(
        config
            .database
            .password
            .iter()
            .map(|p| p.as_bytes().to_vec()),
    );
    let writer = RedactingMakeWriter::new(io::stderr, Redactor::new(secrets));
    let registry = tracing_subscriber::registry().with(filter);
    match config.environment {
        Environment::Production => registry
            .with(fmt::layer().json().flatten_event(true).with_writer(writer))
            .init(),
        Environment::Development => registry.with(fmt::layer().with_writer(writer)).init(),
    }
}

/// Finds and masks secrets in a formatted log line.
pub struct Redactor {
    /// Configured secret values (shorter ones would mask ordinary words).
    secrets: Vec<String>,
    patterns: Vec<(Regex, &'static str)>,
}

const MASK: &str = "[redacted]";

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let secrets = secrets
            .into_iter()
            .filter(|secret| secret.len() >= 8)
            .map(|secret| String::from_utf8_lossy(&secret).into_owned())
            .collect();
        let patterns = [
            // JSON Web Tokens.
            (
                r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
                MASK,
            ),
            // `Authorization: Bearer …`
            (r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+", "${1}[redacted]"),
            // password=…, "refresh_token": "…", cookie: …
            (
                r#"(?i)((?:password|passwd|secret|api_key|apikey|token|authorization|cookie)[a-z_]*\\?"?\s*[:=]\s*\\?"?)[^"\\\s,;}]+"#,
                "${1}[redacted]",
            ),
            // Credentials in URLs: scheme://user:password@host
            (r"(://[^/\s:@]+:)[^@\s/]+@", "${1}[redacted]@"),
        ];
        Self {
            secrets,
            patterns: patterns
                .into_iter()
                .filter_map(|(pattern, replacement)| {
                    Regex::new(pattern).ok().map(|regex| (regex, replacement))
                })
                .collect(),
        }
    }

    pub fn redact<'a>(&self, line: &'a str) -> Cow<'a, str> {
        let mut line = Cow::Borrowed(line);
        for secret in &self.secrets {
            if line.contains(secret.as_str()) {
                line = Cow::Owned(line.replace(secret.as_str(), MASK));
            }
        }
        for (regex, replacement) in &self.patterns {
            if let Cow::Owned(replaced) = regex.replace_all(&line, *replacement) {
                line = Cow::Owned(replaced);
            }
        }
        line
    }
}

/// Wraps a writer factory so each log event is redacted before it is written.
pub struct RedactingMakeWriter<M> {
    inner: M,
    redactor: Arc<Redactor>,
}

impl<M> RedactingMakeWriter<M> {
    pub fn new(inner: M, redactor: Redactor) -> Self {
        Self {
            inner,
            redactor: Arc::new(redactor),
        }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer(),
            redactor: self.redactor.clone(),
            buffer: Vec::new(),
        }
    }
}

/// Collects one event and writes it, redacted, when dropped (the formatter makes one
/// writer per event).
pub struct RedactingWriter<W: io::Write> {
    inner: W,
    redactor: Arc<Redactor>,
    buffer: Vec<u8>,
}

impl<W: io::Write> io::Write for RedactingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: io::Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buffer);
        let redacted = self.redactor.redact(&text);
        // A log line that cannot be written has nowhere else to go.
        let _ = self.inner.write_all(redacted.as_bytes());
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn capture(json: bool, log: impl FnOnce()) -> String {
        let captured = Captured::default();
        let sink = captured.clone();
        let writer = RedactingMakeWriter::new(
            move || sink.clone(),
            Redactor::new([b"hunter2-signing-key-material".to_vec()]),
        );
        let layer = fmt::layer().with_writer(writer).with_ansi(false);
        if json {
            let subscriber = tracing_subscriber::registry().with(layer.json());
            tracing::subscriber::with_default(subscriber, log);
        } else {
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::with_default(subscriber, log);
        }
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn secrets_and_tokens_never_reach_the_log() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlc2lnbmF0dXJl";
        for json in [false, true] {
            let output = capture(json, || {
                tracing::info!(key = "hunter2-signing-key-material", "configured");
                tracing::info!(token = jwt, "issued");
                tracing::info!("header Authorization: Bearer abc.def-ghi");
                tracing::info!(password = "swordfish", refresh_token = "r3fr3sh", "login");
                tracing::info!("connecting to ws://root:rootpw@db:8000");
                tracing::info!(user = "ada", "harmless");
            });
            for secret in [
                "hunter2-signing-key-material",
                "c2lnbmF0dXJl",
                "abc.def-ghi",
                "swordfish",
                "r3fr3sh",
                "rootpw",
            ] {
                assert!(
                    !output.contains(secret),
                    "{secret} leaked (json: {json}):\n{output}"
                );
            }
            assert!(
                output.contains("harmless") && output.contains("ada"),
                "{output}"
            );
            assert!(output.contains("[redacted]"), "{output}");
        }
    }
}
