//! A reply is a server-side run, not a browser request: the assistant message exists
//! (status `streaming`) before the model is called, the run streams the model's text
//! to the thread as numbered chunks, saves it as it grows, and ends it as `complete`,
//! `stopped` or `failed` — whether or not anyone is watching.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use kiln_llm_policy_rules::{Decision, Failure};
use kiln_types::{Message, MessageStatus, ServerFrame};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{
    ChatService,
    llm::PromptMessage,
    prompt::{self, Turn},
};
use crate::{ServiceError, access::ThreadScope, hub::Topic, store::chat as store};

/// A reply's text is saved at most this often while it streams (and at its end).
const SAVE_EVERY: Duration = Duration::from_millis(500);
/// The longest reply, in bytes (the schema's limit for a message): a model that goes
/// on is cut off there.
const REPLY_MAX_BYTES: usize = 1 << 20;
/// Messages read to find the branch a reply continues.
const BRANCH_WINDOW: u32 = 400;

pub(crate) const INTERRUPTED: &str =
    "The reply was interrupted because Kiln stopped. Regenerate it to try again.";
const UNAVAILABLE: &str = "The language model is unavailable right now. Please try again.";
const NOT_CONFIGURED: &str = "No language model is configured for this Kiln, so chat cannot \
     answer yet. An administrator can set KILN_LLM_BASE_URL.";
const CUT_OFF: &str = "The language model stopped answering in the middle of the reply. \
     Regenerate it to try again.";
const UNSAVED: &str = "The reply could not be saved. Regenerate it to try again.";
const TOO_LONG: &str = "The reply grew past 1 MB and was cut off there.";

/// What [`ChatService::resume`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// The reply is still being generated: the chunks `(seq, delta, is_final)` after
    /// the one the client had; later ones arrive live.
    Live(Vec<(u64, String, bool)>),
    /// The reply has ended: its final state.
    Finished(Box<Message>),
}

/// One reply being generated in this process.
struct Run {
    thread_id: String,
    cancel: CancellationToken,
    /// Stopped by Kiln's shutdown rather than by a user.
    shutdown: AtomicBool,
    /// Every chunk so far, by `seq`, and whether it was the last: what a resume
    /// replays.
    chunks: Mutex<Vec<(String, bool)>>,
    done: watch::Receiver<bool>,
}

/// The replies being generated in this process, by message id.
#[derive(Default)]
pub(crate) struct Runs {
    runs: Mutex<HashMap<String, Arc<Run>>>,
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Run>>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn start(&self, message_id: &str, thread_id: &str) -> (Arc<Run>, watch::Sender<bool>) {
        let (done_tx, done) = watch::channel(false);
        let run = Arc::new(Run {
            thread_id: thread_id.to_owned(),
            cancel: CancellationToken::new(),
            shutdown: AtomicBool::new(false),
            chunks: Mutex::default(),
            done,
        });
        self.lock().insert(message_id.to_owned(), run.clone());
        (run, done_tx)
    }

    /// Cancels the run of `message_id` and waits until its text is saved; `false` when
    /// no such run is in this process.
    pub(crate) async fn stop(&self, message_id: &str) -> bool {
        let run = self.lock().get(message_id).cloned();
        let Some(run) = run else {
            return false;
        };
        run.cancel.cancel();
        let mut done = run.done.clone();
        // An error means the run's task is gone, which is as finished as it gets.
        let _ = done.wait_for(|finished| *finished).await;
        true
    }

    pub(crate) async fn stop_thread(&self, thread_id: &str) {
        let ids: Vec<String> = self
            .lock()
            .iter()
            .filter(|(_, run)| run.thread_id == thread_id)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.stop(&id).await;
        }
    }

    pub(crate) fn stop_all(&self) {
        for run in self.lock().values() {
            run.shutdown.store(true, Ordering::SeqCst);
            run.cancel.cancel();
        }
    }

    pub(crate) fn chunks_after(
        &self,
        message_id: &str,
        after: Option<u64>,
    ) -> Option<Vec<(u64, String, bool)>> {
        let run = self.lock().get(message_id).cloned()?;
        let chunks = run.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        let from = after.map_or(0, |seq| seq.saturating_add(1));
        Some(
            chunks
                .iter()
                .enumerate()
                .skip(usize::try_from(from).unwrap_or(usize::MAX))
                .map(|(seq, (delta, is_final))| (seq as u64, delta.clone(), *is_final))
                .collect(),
        )
    }

    fn remove(&self, message_id: &str) {
        self.lock().remove(message_id);
    }
}

/// Ends a run's registration when its task ends, however it ends; a reply a panic
/// left `streaming` is marked failed so that its thread is not held.
struct RunGuard {
    service: ChatService,
    message_id: String,
    done: watch::Sender<bool>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.service.runs.remove(&self.message_id);
        let _ = self.done.send(true);
        if std::thread::panicking() {
            tracing::error!("a reply's task panicked; marking the reply failed");
            let db = self.service.db.clone();
            let id = self.message_id.clone();
            tokio::spawn(async move {
                let _ = store::end_reply(&db, &id, MessageStatus::Failed, Some(UNSAVED)).await;
            });
        }
    }
}

/// How a run ended.
enum Ending {
    Complete {
        model: String,
    },
    Stopped {
        model: String,
    },
    Failed {
        model: String,
        code: &'static str,
        detail: &'static str,
    },
}

/// Streams a reply's text to the thread and saves it as it grows.
struct Writer<'a> {
    service: &'a ChatService,
    run: &'a Run,
    message_id: Arc<str>,
    thread_id: &'a str,
    content: String,
    last_save: Instant,
}

impl Writer<'_> {
    /// Numbers `delta`, keeps it for resumes and sends it to the thread's watchers.
    fn chunk(&mut self, delta: String, is_final: bool) {
        let mut chunks = self
            .run
            .chunks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let seq = chunks.len() as u64;
        let frame = ServerFrame::StreamChunk {
            message_id: self.message_id.to_string(),
            seq,
            delta: delta.clone(),
            is_final,
        };
        // Published under the lock, so a resume sees every chunk either in its
        // snapshot or live after it (both, at worst: the socket skips repeats by seq).
        self.service.events.hub().publish_at(
            frame.kind(),
            vec![Topic::Thread(self.thread_id.to_owned())],
            &frame,
            Some((self.message_id.clone(), seq)),
        );
        self.content.push_str(&delta);
        chunks.push((delta, is_final));
    }

    /// Adds text to the reply; `false` once the reply is full (the text is cut there).
    async fn push(&mut self, mut delta: String) -> bool {
        let room = REPLY_MAX_BYTES.saturating_sub(self.content.len());
        let full = delta.len() > room;
        if full {
            let mut end = room;
            while !delta.is_char_boundary(end) {
                end -= 1;
            }
            delta.truncate(end);
        }
        if !delta.is_empty() {
            self.chunk(delta, false);
        }
        if self.last_save.elapsed() >= SAVE_EVERY {
            self.last_save = Instant::now();
            // The database's error may quote the text: only the failure is logged.
            match store::save_partial(&self.service.db, &self.message_id, &self.content).await {
                Ok(true) => {}
                // Deleted with its thread or project (perhaps on another instance), or
                // ended elsewhere: the provider is not kept generating for nobody.
                Ok(false) => {
                    tracing::info!("a reply's message is gone; its generation stops");
                    self.run.cancel.cancel();
                }
                Err(_) => tracing::warn!("could not save a reply's text so far"),
            }
        }
        !full
    }
}

impl ChatService {
    /// Starts generating `reply` (already stored, `streaming`) in the background.
    pub(super) fn start_reply(
        &self,
        scope: &ThreadScope,
        reply: &Message,
        project_name: String,
        instructions: String,
    ) {
        let (run, done) = self.runs.start(&reply.id, scope.id().as_str());
        let service = self.clone();
        let scope = scope.clone();
        let reply = reply.clone();
        let span = tracing::info_span!("reply", thread = %scope.id(), message = %reply.id);
        self.tasks.spawn(
            async move {
                // Whatever happens to the run (a panic included), it leaves the
                // registry and a stop waiting for it returns.
                let _guard = RunGuard {
                    service: service.clone(),
                    message_id: reply.id.clone(),
                    done,
                };
                service
                    .generate(&scope, &reply, &run, &project_name, &instructions)
                    .await;
            }
            .instrument(span),
        );
    }

    async fn generate(
        &self,
        scope: &ThreadScope,
        reply: &Message,
        run: &Run,
        project_name: &str,
        instructions: &str,
    ) {
        let thread_id = scope.id().as_str();
        let context_tokens = self.llm.settings().context_tokens;
        let branch = match self.branch(thread_id, reply.parent_id.as_deref()).await {
            Ok(branch) => branch,
            Err(error) => {
                tracing::error!(%error, "could not read the conversation for a reply");
                Vec::new()
            }
        };
        let question = branch
            .last()
            .map(|turn| turn.content.as_str())
            .unwrap_or_default();
        let hits = if question.trim().is_empty() {
            Vec::new()
        } else {
            self.files
                .retrieve(
                    scope.project(),
                    question,
                    prompt::code_budget(context_tokens),
                )
                .await
                .unwrap_or_else(|error| {
                    tracing::warn!(%error, "retrieval failed; answering without code");
                    Vec::new()
                })
        };
        let prompt = prompt::build(project_name, instructions, &hits, &branch, context_tokens);
        let mut writer = Writer {
            service: self,
            run,
            message_id: reply.id.as_str().into(),
            thread_id,
            content: String::new(),
            last_save: Instant::now(),
        };
        let first_model = reply
            .model
            .clone()
            .unwrap_or_else(|| self.llm.model_for(None));
        let ending = self
            .call_model(first_model, &prompt.messages, run, &mut writer)
            .await;
        writer.chunk(String::new(), true);
        let content = std::mem::take(&mut writer.content);
        let snippets = if content.trim().is_empty() {
            Vec::new()
        } else {
            self.snippets
                .extract(content.clone())
                .await
                .unwrap_or_default()
        };
        let (status, model, failure) = match &ending {
            Ending::Complete { model } => (MessageStatus::Complete, model, None),
            Ending::Stopped { model } => (MessageStatus::Stopped, model, None),
            Ending::Failed {
                model,
                code,
                detail,
            } => (MessageStatus::Failed, model, Some((*code, *detail))),
        };
        let finished = store::finish(
            &self.db,
            &reply.id,
            store::Finished {
                content: &content,
                status,
                model: Some(model),
                error: failure.map(|(_, detail)| detail),
                citations: &prompt.citations,
                snippets: &snippets,
            },
        )
        .await;
        match finished {
            Ok(Some(row)) => {
                let mut message = Message::from(row);
                if let Err(error) = self
                    .mark_changed_citations(std::slice::from_mut(&mut message))
                    .await
                {
                    tracing::warn!(%error, "could not check citations");
                }
                self.publish(thread_id, &ServerFrame::MessageUpdated { message });
            }
            // Deleted with its thread meanwhile.
            Ok(None) => {}
            // The database's error may quote the text: only the failure is logged. The
            // reply must not stay `streaming` (that would hold the thread).
            Err(_) => {
                tracing::error!("could not save a finished reply; marking it failed");
                if let Ok(Some(row)) =
                    store::end_reply(&self.db, &reply.id, MessageStatus::Failed, Some(UNSAVED))
                        .await
                {
                    self.publish(
                        thread_id,
                        &ServerFrame::MessageUpdated {
                            message: row.into(),
                        },
                    );
                }
            }
        }
        if let Some((code, detail)) = failure
            && !run.shutdown.load(Ordering::SeqCst)
        {
            let error = ServiceError::Llm {
                code,
                detail: detail.to_owned(),
            }
            .to_api_error()
            .with_details(serde_json::json!({ "message_id": reply.id }));
            self.publish(
                thread_id,
                &ServerFrame::Error {
                    command_id: None,
                    error,
                },
            );
        }
    }

    /// The conversation a reply continues: the ancestors of `parent_id`, oldest first.
    async fn branch(
        &self,
        thread_id: &str,
        parent_id: Option<&str>,
    ) -> Result<Vec<Turn>, ServiceError> {
        let rows = store::recent_messages(&self.db, thread_id, BRANCH_WINDOW).await?;
        let by_id: HashMap<String, Message> = rows
            .into_iter()
            .map(|row| {
                let message = Message::from(row);
                (message.id.clone(), message)
            })
            .collect();
        let mut turns = Vec::new();
        let mut next = parent_id.map(str::to_owned);
        while let Some(id) = next {
            let Some(message) = by_id.get(&id) else {
                break;
            };
            turns.push(Turn {
                role: message.role,
                status: message.status,
                content: message.content.clone(),
            });
            next = message.parent_id.clone();
            if turns.len() > by_id.len() {
                break; // a cycle cannot happen, but never loop on one
            }
        }
        turns.reverse();
        Ok(turns)
    }

    /// Calls the model until it answers, the policy gives up, or the run is stopped:
    /// retries and fallbacks as the llm-policy decides, each attempt within the
    /// timeouts. Text already streamed is never asked for twice.
    async fn call_model(
        &self,
        mut model: String,
        prompt: &[PromptMessage],
        run: &Run,
        writer: &mut Writer<'_>,
    ) -> Ending {
        if !self.llm.is_configured() {
            return Ending::Failed {
                model,
                code: "no_llm_configured",
                detail: NOT_CONFIGURED,
            };
        }
        let settings = self.llm.settings();
        let started = Instant::now();
        // A total timeout too large to add means no total timeout.
        let deadline = started
            .checked_add(settings.total_timeout)
            .unwrap_or(started + Duration::from_secs(365 * 24 * 3600));
        let mut attempt = 1;
        let mut missing: Vec<String> = Vec::new();
        loop {
            let failure = tokio::select! {
                () = run.cancel.cancelled() => return self.stopped(run, model),
                failure = self.attempt(&model, prompt, deadline, writer) => failure,
            };
            let Some(failure) = failure else {
                for missing in &missing {
                    self.llm.remember_replacement(missing, &model);
                }
                return Ending::Complete { model };
            };
            let failure = Failure {
                attempt,
                elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                fallback_models: settings.fallback_models.clone(),
                ..failure
            };
            if failure.error_code.as_deref() == Some(TOO_LONG_CODE) {
                tracing::warn!(model, "a reply reached the size limit and was cut off");
                return Ending::Failed {
                    model,
                    code: TOO_LONG_CODE,
                    detail: TOO_LONG,
                };
            }
            if !writer.content.is_empty() {
                tracing::error!(model, status = failure.http_status, code = ?failure.error_code, cause = %failure.message, "the language model stopped in the middle of a reply");
                return Ending::Failed {
                    model,
                    code: "llm_unavailable",
                    detail: CUT_OFF,
                };
            }
            tracing::warn!(model, attempt, status = failure.http_status, code = ?failure.error_code, "a call to the language model failed");
            match self.llm.decide(failure.clone()).await {
                Decision::Retry { after_ms } => {
                    tokio::select! {
                        () = run.cancel.cancelled() => return self.stopped(run, model),
                        () = tokio::time::sleep(Duration::from_millis(after_ms)) => {}
                    }
                    attempt += 1;
                }
                Decision::Fallback { model: next } => {
                    if failure.error_code.as_deref() == Some("model_not_found") {
                        missing.push(model.clone());
                    }
                    model = next;
                    attempt = 1;
                }
                Decision::GiveUp => {
                    tracing::error!(model, attempt, status = failure.http_status, code = ?failure.error_code, cause = %failure.message, "the language model could not answer; giving up");
                    return Ending::Failed {
                        model,
                        code: "llm_unavailable",
                        detail: UNAVAILABLE,
                    };
                }
            }
        }
    }

    /// One attempt: `None` when the model answered in full.
    async fn attempt(
        &self,
        model: &str,
        prompt: &[PromptMessage],
        deadline: Instant,
        writer: &mut Writer<'_>,
    ) -> Option<Failure> {
        let (first, mut stream) = match self.llm.open(model, prompt, deadline).await {
            Ok(opened) => opened,
            Err(failure) => return Some(failure),
        };
        if !writer.push(first).await {
            return Some(too_long(model));
        }
        loop {
            match stream.next().await {
                None => return None,
                Some(Ok(text)) => {
                    if !writer.push(text).await {
                        return Some(too_long(model));
                    }
                }
                Some(Err(failure)) => return Some(failure),
            }
        }
    }

    fn stopped(&self, run: &Run, model: String) -> Ending {
        if run.shutdown.load(Ordering::SeqCst) {
            Ending::Failed {
                model,
                code: "interrupted",
                detail: INTERRUPTED,
            }
        } else {
            Ending::Stopped { model }
        }
    }
}

const TOO_LONG_CODE: &str = "reply_too_long";

/// The reply reached [`REPLY_MAX_BYTES`]: not the provider's failure, but ends it.
fn too_long(model: &str) -> Failure {
    Failure {
        error_code: Some(TOO_LONG_CODE.into()),
        model: model.to_owned(),
        ..Failure::default()
    }
}
