//! The LLM client: chat completions streamed from any OpenAI-compatible server
//! (OpenAI, vLLM, llama.cpp's server, Ollama) through async-openai, with a timeout
//! per phase (connect, first token, between tokens, whole reply) and every failure
//! typed for the recovery policy (the llm-policy plugin, or the same rules built in).

use std::{
    collections::HashMap,
    fmt,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use async_openai::{
    Client,
    config::OpenAIConfig,
    error::OpenAIError,
    middleware::HttpRequestFactory,
    types::chat::{
        ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
        ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
        ChatCompletionStreamOptions, CreateChatCompletionRequest,
        CreateChatCompletionStreamResponse,
    },
};
use futures_util::{Stream, StreamExt};
use kiln_llm_policy_rules::{Decision, Failure};

use crate::plugins::PluginRegistry;

/// Provider text kept in a failure (for the policy and the log), in bytes.
const MESSAGE_MAX_BYTES: usize = 500;

/// Where and how to reach the language model (from `KILN_LLM_*` and `LLM_MODEL`).
#[derive(Clone)]
pub struct LlmSettings {
    /// `KILN_LLM_BASE_URL`, e.g. `http://127.0.0.1:8080/v1`; none: chat is off.
    pub base_url: Option<String>,
    /// `KILN_LLM_API_KEY`. Never logged (see the `Debug` impl).
    pub api_key: Option<String>,
    /// `LLM_MODEL`: the model used unless a project names its own.
    pub model: String,
    /// `KILN_LLM_FALLBACK_MODELS`: tried in order when a model fails.
    pub fallback_models: Vec<String>,
    /// `KILN_LLM_CONNECT_TIMEOUT_SECS`.
    pub connect_timeout: Duration,
    /// `KILN_LLM_FIRST_TOKEN_TIMEOUT_SECS`: from sending the request to the first text.
    pub first_token_timeout: Duration,
    /// `KILN_LLM_IDLE_TIMEOUT_SECS`: the longest gap between two pieces of text.
    pub idle_timeout: Duration,
    /// `KILN_LLM_TOTAL_TIMEOUT_SECS`: a whole reply, every attempt included.
    pub total_timeout: Duration,
    /// `KILN_LLM_CONTEXT_TOKENS`: the model's context window, in tokens.
    pub context_tokens: usize,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            model: "gpt-4o-mini".into(),
            fallback_models: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            first_token_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(600),
            context_tokens: 8192,
        }
    }
}

impl fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("model", &self.model)
            .field("fallback_models", &self.fallback_models)
            .finish_non_exhaustive()
    }
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptMessage {
    System(String),
    User(String),
    Assistant(String),
}

impl PromptMessage {
    pub fn text(&self) -> &str {
        match self {
            Self::System(text) | Self::User(text) | Self::Assistant(text) => text,
        }
    }

    fn to_request(&self) -> ChatCompletionRequestMessage {
        match self {
            Self::System(text) => ChatCompletionRequestSystemMessage::from(
                async_openai::types::chat::ChatCompletionRequestSystemMessageContent::from(
                    text.as_str(),
                ),
            )
            .into(),
            Self::User(text) => ChatCompletionRequestUserMessage::from(
                async_openai::types::chat::ChatCompletionRequestUserMessageContent::from(
                    text.as_str(),
                ),
            )
            .into(),
            Self::Assistant(text) => ChatCompletionRequestAssistantMessage::from(
                async_openai::types::chat::ChatCompletionRequestAssistantMessageContent::from(
                    text.as_str(),
                ),
            )
            .into(),
        }
    }
}

/// A refusal from the provider, read from its HTTP answer (our own HTTP service
/// reads it, so the status and `Retry-After` survive).
#[derive(Debug, thiserror::Error)]
#[error("the provider answered {status}: {message}")]
struct ProviderRefusal {
    status: u16,
    code: Option<String>,
    message: String,
    retry_after_ms: Option<u64>,
}

impl ProviderRefusal {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after_ms = retry_after_ms(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        // OpenAI: {"error": {"message", "code", "type"}}; Ollama: {"error": "…"};
        // vLLM: {"message", "type", "code": 404}.
        let error = json.get("error").unwrap_or(&json);
        let text = |value: Option<&serde_json::Value>| {
            value.and_then(|value| match value {
                serde_json::Value::String(text) => Some(text.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            })
        };
        let message = text(error.get("message"))
            .or_else(|| error.as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        let code = text(error.get("code")).or_else(|| text(error.get("type")));
        let code = normalise_code(status, code, &message);
        Self {
            status,
            code,
            message: truncate(message),
            retry_after_ms,
        }
    }
}

/// `Retry-After` in seconds (RFC 9110 §10.2.3; the HTTP-date form is rare from APIs
/// and left to the policy's own backoff), or the `retry-after-ms` some servers send.
fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let header = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    header("retry-after-ms")
        .or_else(|| header("retry-after").map(|seconds| seconds * 1000.0))
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| ms as u64)
}

/// Providers say "no such model" in many ways (OpenAI: 404 `model_not_found`; some
/// proxies: 403; vLLM and Ollama: 404 with words only): all become `model_not_found`.
fn normalise_code(status: u16, code: Option<String>, message: &str) -> Option<String> {
    let lower = message.to_lowercase();
    let says_missing_model = lower.contains("model")
        && [
            "not found",
            "does not exist",
            "not exist",
            "no such model",
            "unknown model",
            "not available",
        ]
        .iter()
        .any(|phrase| lower.contains(phrase));
    match code.as_deref() {
        Some("model_not_found" | "model_not_available") => Some("model_not_found".into()),
        _ if matches!(status, 400 | 403 | 404) && says_missing_model => {
            Some("model_not_found".into())
        }
        _ => code,
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MESSAGE_MAX_BYTES {
        let mut end = MESSAGE_MAX_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// What went wrong with one attempt, for the policy and the log.
fn failure(status: u16, code: &str, message: impl Into<String>, model: &str) -> Failure {
    Failure {
        http_status: status,
        error_code: Some(code.to_owned()),
        message: truncate(message.into()),
        model: model.to_owned(),
        ..Failure::default()
    }
}

fn classify(error: OpenAIError, model: &str) -> Failure {
    match error {
        OpenAIError::Boxed(boxed) => match boxed.downcast::<ProviderRefusal>() {
            Ok(refusal) => Failure {
                http_status: refusal.status,
                error_code: refusal.code,
                message: refusal.message,
                retry_after_ms: refusal.retry_after_ms,
                model: model.to_owned(),
                ..Failure::default()
            },
            Err(other) => failure(0, "transport", other.to_string(), model),
        },
        OpenAIError::Reqwest(error) if error.is_connect() => {
            failure(0, "connect_failed", error.to_string(), model)
        }
        OpenAIError::Reqwest(error) if error.is_timeout() => {
            failure(0, "connect_timeout", error.to_string(), model)
        }
        OpenAIError::ApiError(api) => Failure {
            http_status: api.status_code.as_u16(),
            error_code: normalise_code(
                api.status_code.as_u16(),
                api.api_error.code.clone(),
                &api.api_error.message,
            ),
            message: truncate(api.api_error.message),
            model: model.to_owned(),
            ..Failure::default()
        },
        // An error object in the middle of the stream.
        OpenAIError::JSONDeserialize(_, content) => {
            let json: serde_json::Value = serde_json::from_str(&content).unwrap_or_default();
            let message = json
                .pointer("/error/message")
                .and_then(|m| m.as_str())
                .unwrap_or("the server sent something that is not a completion chunk");
            failure(0, "bad_stream", message, model)
        }
        other => failure(0, "stream_cut", other.to_string(), model),
    }
}

type ChunkStream =
    Pin<Box<dyn Stream<Item = Result<CreateChatCompletionStreamResponse, OpenAIError>> + Send>>;

/// One streamed attempt: pieces of text with the phase timeouts applied.
pub struct ReplyStream {
    chunks: ChunkStream,
    model: String,
    idle_timeout: Duration,
    deadline: Instant,
    /// What passing `deadline` is called: the first token's timeout, then the total.
    deadline_code: &'static str,
    /// The provider ended the stream (it must not be polled again).
    ended: bool,
}

impl ReplyStream {
    /// The next piece of text, `None` at the end of the reply. Chunks without text
    /// (role announcements, usage) are skipped.
    pub async fn next(&mut self) -> Option<Result<String, Failure>> {
        if self.ended {
            return None;
        }
        loop {
            let now = Instant::now();
            let Some(remaining) = self.deadline.checked_duration_since(now) else {
                return Some(Err(failure(
                    0,
                    self.deadline_code,
                    "the reply took too long",
                    &self.model,
                )));
            };
            let (wait, code) = if self.idle_timeout < remaining {
                (self.idle_timeout, "idle_timeout")
            } else {
                (remaining, self.deadline_code)
            };
            let chunk = match tokio::time::timeout(wait, self.chunks.next()).await {
                Err(_) => {
                    return Some(Err(failure(
                        0,
                        code,
                        "no text arrived in time",
                        &self.model,
                    )));
                }
                Ok(None) => {
                    self.ended = true;
                    return None;
                }
                Ok(Some(Err(error))) => return Some(Err(classify(error, &self.model))),
                Ok(Some(Ok(chunk))) => chunk,
            };
            let text: String = chunk
                .choices
                .iter()
                .filter_map(|choice| choice.delta.content.as_deref())
                .collect();
            if !text.is_empty() {
                return Some(Ok(text));
            }
        }
    }
}

/// Talks to the configured endpoint. Cheap to clone.
#[derive(Clone)]
pub struct LlmClient {
    client: Option<Client<OpenAIConfig>>,
    settings: Arc<LlmSettings>,
    plugins: PluginRegistry,
    /// Models found missing, and the fallback that answered instead: later replies go
    /// straight there until Kiln restarts.
    replacements: Arc<Mutex<HashMap<String, String>>>,
}

impl fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    /// A client for `settings`' endpoint (none configured: every reply says so).
    pub fn new(settings: LlmSettings, plugins: PluginRegistry) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|error| {
                tracing::error!(%error, "cannot build the HTTP client for the language model; chat is off");
            })
            .ok();
        let client = match (&settings.base_url, http) {
            (Some(base_url), Some(http)) => {
                // Our own service: async-openai's default one retries by itself, and a
                // retry is the policy's decision.
                let service = tower::service_fn(move |factory: HttpRequestFactory| {
                    let http = http.clone();
                    async move {
                        let request = factory.build().await?;
                        let response = http.execute(request).await.map_err(OpenAIError::Reqwest)?;
                        if response.status().is_success() {
                            Ok(response)
                        } else {
                            Err(OpenAIError::Boxed(Box::new(
                                ProviderRefusal::read(response).await,
                            )))
                        }
                    }
                });
                let config = OpenAIConfig::new()
                    .with_api_base(base_url.trim_end_matches('/'))
                    .with_api_key(settings.api_key.clone().unwrap_or_default());
                Some(Client::with_config(config).with_http_service(service))
            }
            _ => None,
        };
        Self {
            client,
            settings: Arc::new(settings),
            plugins,
            replacements: Arc::default(),
        }
    }

    pub fn settings(&self) -> &LlmSettings {
        &self.settings
    }

    /// Whether an endpoint is configured at all.
    pub fn is_configured(&self) -> bool {
        self.client.is_some()
    }

    /// The model a reply starts with: the project's own, else the default — or what
    /// replaced it after it was found missing.
    pub fn model_for(&self, project_model: Option<&str>) -> String {
        let wanted = project_model
            .filter(|model| !model.trim().is_empty())
            .unwrap_or(&self.settings.model);
        let replacements = self
            .replacements
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        replacements
            .get(wanted)
            .cloned()
            .unwrap_or_else(|| wanted.to_owned())
    }

    /// Remembers that `missing` is not served, and `instead` answered.
    pub fn remember_replacement(&self, missing: &str, instead: &str) {
        tracing::warn!(
            missing,
            instead,
            "model not found; using the fallback until restart"
        );
        self.replacements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(missing.to_owned(), instead.to_owned());
    }

    /// Starts one attempt: the stream is open once the first text has arrived (within
    /// the first-token timeout), so a slow or silent provider fails here.
    pub async fn open(
        &self,
        model: &str,
        prompt: &[PromptMessage],
        deadline: Instant,
    ) -> Result<(String, ReplyStream), Failure> {
        let Some(client) = &self.client else {
            return Err(failure(
                0,
                "no_llm_configured",
                "no LLM endpoint is configured",
                model,
            ));
        };
        let request = CreateChatCompletionRequest {
            model: model.to_owned(),
            messages: prompt.iter().map(PromptMessage::to_request).collect(),
            stream_options: Some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                ..ChatCompletionStreamOptions::default()
            }),
            ..CreateChatCompletionRequest::default()
        };
        let first_deadline = Instant::now()
            .checked_add(self.settings.first_token_timeout)
            .map_or(deadline, |first| first.min(deadline));
        let first_token_timeout =
            || failure(0, "first_token_timeout", "no text arrived in time", model);
        let chunks =
            tokio::time::timeout_at(first_deadline.into(), client.chat().create_stream(request))
                .await
                .map_err(|_| first_token_timeout())?
                .map_err(|error| classify(error, model))?;
        let mut stream = ReplyStream {
            chunks: Box::pin(chunks),
            model: model.to_owned(),
            // Until the first text, only the first-token deadline applies.
            idle_timeout: self.settings.first_token_timeout,
            deadline: first_deadline,
            deadline_code: "first_token_timeout",
            ended: false,
        };
        let first = match stream.next().await {
            Some(Ok(text)) => text,
            // An empty reply is a reply.
            None => String::new(),
            Some(Err(failure)) => return Err(failure),
        };
        stream.idle_timeout = self.settings.idle_timeout;
        stream.deadline = deadline;
        stream.deadline_code = "total_timeout";
        Ok((first, stream))
    }

    /// What to do after `failure`: the enabled llm-policy plugin decides, or — when
    /// none is enabled or it fails — the same rules built in.
    pub async fn decide(&self, failure: Failure) -> Decision {
        let plugins = self.plugins.llm_policy().into_iter().collect();
        let built_in = failure.clone();
        let decided = self
            .plugins
            .call_with_fallback(
                "llm policy",
                failure.model.clone(),
                plugins,
                move |plugin| plugin.decide(&failure),
                |_| false,
                move |_| Ok(kiln_llm_policy_rules::decide(&built_in)),
            )
            .await;
        decided.unwrap_or(Decision::GiveUp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_saying_no_such_model_is_model_not_found() {
        let cases = [
            (404, Some("model_not_found"), "The model `x` does not exist"),
            (403, None, "model x is not available on this plan"),
            (404, None, "model \"x\" not found, try pulling it first"),
            (404, Some("404"), "The model `x` does not exist."),
        ];
        for (status, code, message) in cases {
            assert_eq!(
                normalise_code(status, code.map(str::to_owned), message).as_deref(),
                Some("model_not_found"),
                "{status} {message}"
            );
        }
        assert_eq!(
            normalise_code(500, None, "model crashed: not found").as_deref(),
            None
        );
        assert_eq!(
            normalise_code(429, Some("rate_limit_exceeded".into()), "slow down").as_deref(),
            Some("rate_limit_exceeded")
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_milliseconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), Some(2000));
        headers.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), Some(150));
        headers.clear();
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_ms(&headers), None);
    }

    #[test]
    fn the_api_key_never_shows_in_debug_output() {
        let settings = LlmSettings {
            api_key: Some("sk-secret".into()),
            ..LlmSettings::default()
        };
        assert!(!format!("{settings:?}").contains("sk-secret"));
    }
}
