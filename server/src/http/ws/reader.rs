//! One socket: the reader runs the client's commands, the writer sends what the
//! socket's queue holds (and pings, and closes with a reason).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use kiln_core::{
    Principal, ServiceError,
    access::{self, ThreadScope},
    chat::Resume,
    hub::Topic,
};
use kiln_types::{ApiError, ClientCommand, ErrorKind, MessagePatch, NewMessage, ServerFrame};
use tokio::sync::mpsc;
use tracing::Instrument;

use super::{
    WsSettings, close,
    connections::{Kick, Outbound, Slot},
    stream_filter::StreamFilter,
};
use crate::http::AppState;

pub(super) async fn run(
    socket: WebSocket,
    state: AppState,
    principal: Principal,
    scope: ThreadScope,
    slot: Slot,
) {
    let settings = state.settings.ws.clone();
    let (sink, stream) = socket.split();
    let (queue, outbound) = mpsc::channel(settings.queue_capacity);
    let kick = Kick::default();
    // Names this socket to the hub, so what its client causes is not echoed to it.
    let socket_id = uuid::Uuid::new_v4().to_string();
    let membership =
        state
            .connections
            .join(scope.id().as_str(), &socket_id, queue.clone(), kick.clone());
    let missed_pongs = Arc::new(AtomicU32::new(0));
    let session = state
        .services
        .events
        .hub()
        .subscribe(&Topic::Session(principal.session_id.clone()));
    let writer = tokio::spawn(write(
        sink,
        outbound,
        kick.clone(),
        settings.clone(),
        missed_pongs.clone(),
        principal.expires_at,
        session,
    ));
    tracing::debug!("chat socket open");
    read(
        stream,
        &state,
        &principal,
        &scope,
        &socket_id,
        &queue,
        &kick,
        &missed_pongs,
        &settings,
    )
    .await;
    kick.kick(close::GOING_AWAY, "closing");
    drop(membership);
    let _ = writer.await;
    drop(slot);
    tracing::debug!("chat socket closed");
}

/// Commands one connection may still send this minute: a count per window, not a
/// list of timestamps.
struct CommandBudget {
    per_minute: u32,
    window_start: Instant,
    used: u32,
}

impl CommandBudget {
    fn allow(&mut self) -> bool {
        if self.window_start.elapsed() >= Duration::from_secs(60) {
            self.window_start = Instant::now();
            self.used = 0;
        }
        self.used += 1;
        self.used <= self.per_minute
    }
}

#[allow(clippy::too_many_arguments)]
async fn read(
    mut stream: SplitStream<WebSocket>,
    state: &AppState,
    principal: &Principal,
    scope: &ThreadScope,
    socket_id: &str,
    queue: &mpsc::Sender<Outbound>,
    kick: &Kick,
    missed_pongs: &AtomicU32,
    settings: &WsSettings,
) {
    let mut budget = CommandBudget {
        per_minute: settings.commands_per_minute,
        window_start: Instant::now(),
        used: 0,
    };
    let send = |item: Outbound| {
        if queue.try_send(item).is_err() {
            kick.kick(close::TRY_AGAIN_LATER, "too slow: frames were not read");
        }
    };
    loop {
        let next = tokio::select! {
            _ = kick.kicked() => return,
            next = stream.next() => next,
        };
        let message = match next {
            None => return,
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                // Most often a frame far over the limit, cut off by the protocol layer.
                tracing::debug!(%error, "chat socket read failed");
                kick.kick(close::TOO_BIG, "the frame could not be read (too large?)");
                return;
            }
        };
        missed_pongs.store(0, Ordering::Relaxed);
        // Each frame is a request of its own: its errors carry the id its log lines are
        // under, as a REST error does.
        let request_id = uuid::Uuid::new_v4().to_string();
        let error_frame = |command_id, error: ApiError| {
            error_frame(
                command_id,
                ApiError {
                    request_id: Some(request_id.clone()),
                    ..error
                },
            )
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                send(error_frame(
                    None,
                    ApiError::new(ErrorKind::BadRequest, "frames are JSON text, not binary"),
                ));
                continue;
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if text.len() > settings.max_frame_bytes {
            send(error_frame(
                None,
                ApiError::too_large(
                    format!("a frame is limited to {} bytes", settings.max_frame_bytes),
                    settings.max_frame_bytes as u64,
                ),
            ));
            kick.kick(close::TOO_BIG, "frame too large");
            return;
        }
        let (command_id, command) = parse(text.as_str());
        if !budget.allow() {
            send(error_frame(
                command_id,
                ApiError::new(
                    ErrorKind::RateLimitExceeded,
                    format!(
                        "at most {} commands a minute on one connection",
                        settings.commands_per_minute
                    ),
                ),
            ));
            continue;
        }
        let command = match command {
            Ok(command) => command,
            Err(error) => {
                send(error_frame(command_id, error));
                continue;
            }
        };
        let span = tracing::info_span!("command", kind = command.kind(), %request_id);
        match handle(state, principal, scope, socket_id, command)
            .instrument(span.clone())
            .await
        {
            Ok(items) => items.into_iter().for_each(&send),
            Err(error) => {
                span.in_scope(|| {
                    if error.is_server_error() {
                        tracing::error!(%error, "chat command failed");
                    } else {
                        tracing::debug!(code = %error.to_api_error().code, "chat command refused");
                    }
                });
                send(error_frame(command_id, error.to_api_error()));
            }
        }
    }
}

/// The longest `command_id` a client may choose.
const COMMAND_ID_MAX_BYTES: usize = 200;

/// The command, or why it is not one; and its `command_id` when that much could be
/// read, so even a malformed command gets its error matched.
fn parse(text: &str) -> (Option<String>, Result<ClientCommand, ApiError>) {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            return (
                None,
                Err(ApiError::new(
                    ErrorKind::BadRequest,
                    format!("a frame must be a JSON object: {error}"),
                )),
            );
        }
    };
    let command_id: Option<String> = value
        .get("command_id")
        .and_then(|id| id.as_str())
        .map(str::to_owned);
    if command_id
        .as_ref()
        .is_some_and(|id| id.len() > COMMAND_ID_MAX_BYTES)
    {
        return (
            None,
            Err(ApiError::invalid_field(
                "command_id",
                format!("must be at most {COMMAND_ID_MAX_BYTES} bytes"),
            )),
        );
    }
    let known = ClientCommand::KINDS;
    let kind = value.get("type").and_then(|kind| kind.as_str());
    let command = match kind {
        None => Err(ApiError::invalid_field("type", "is missing")),
        Some(kind) if !known.contains(&kind) => Err(ApiError::invalid_field(
            "type",
            format!("unknown command {kind:?}; known: {}", known.join(", ")),
        )),
        Some(_) => serde_json::from_value(value).map_err(|error| {
            ApiError::new(
                ErrorKind::ValidationError,
                format!("invalid command: {error}"),
            )
        }),
    };
    (command_id, command)
}

fn frame(frame: &ServerFrame) -> Outbound {
    Outbound::Own(serde_json::to_string(frame).unwrap_or_default())
}

fn error_frame(command_id: Option<String>, error: ApiError) -> Outbound {
    frame(&ServerFrame::Error { command_id, error })
}

fn ack(
    command_id: Option<&str>,
    message: Option<kiln_types::Message>,
    reply: Option<kiln_types::Message>,
) -> Option<Outbound> {
    command_id.map(|command_id| {
        frame(&ServerFrame::Ack {
            command_id: command_id.to_owned(),
            message: message.map(Box::new),
            reply: reply.map(Box::new),
        })
    })
}

/// Runs one command. Authorization is checked again for each: the session must still
/// be valid, the thread still the caller's, and a message must belong to it.
async fn handle(
    state: &AppState,
    principal: &Principal,
    thread: &ThreadScope,
    socket_id: &str,
    command: ClientCommand,
) -> Result<Vec<Outbound>, ServiceError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    if principal.expires_at <= now {
        return Err(ServiceError::Unauthorized(
            "the session expired; reconnect".into(),
        ));
    }
    let services = &state.services;
    let chat = &services.chat;
    let scope = access::thread_accessible(&services.db, principal, thread.id().as_str()).await?;
    let command_id = command.command_id().map(str::to_owned);
    let command_id = command_id.as_deref();
    let message_in = |message_id: String| {
        let scope = &scope;
        async move { access::message_in(&services.db, scope, &message_id).await }
    };
    let mut out = Vec::new();
    match command {
        ClientCommand::SendMessage {
            content,
            parent_id,
            at_start,
            ..
        } => {
            let input = NewMessage {
                content,
                parent_id,
                at_start,
            };
            let sent = chat.send(&scope, input).await?;
            out.extend(ack(command_id, Some(sent.message), Some(sent.reply)));
        }
        ClientCommand::EditMessage {
            message_id,
            content,
            ..
        } => {
            let message = chat
                .edit(&message_in(message_id).await?, MessagePatch { content })
                .await?;
            out.extend(ack(command_id, Some(message), None));
        }
        ClientCommand::DeleteMessage { message_id, .. } => {
            chat.delete(&message_in(message_id).await?).await?;
            out.extend(ack(command_id, None, None));
        }
        ClientCommand::StopGeneration { message_id, .. } => {
            let message = chat.stop(&message_in(message_id).await?).await?;
            out.extend(ack(command_id, Some(message), None));
        }
        ClientCommand::Regenerate { message_id, .. } => {
            let reply = chat.regenerate(&message_in(message_id).await?).await?;
            out.extend(ack(command_id, None, Some(reply)));
        }
        ClientCommand::Typing { .. } => {
            chat.typing(&scope, socket_id);
            out.extend(ack(command_id, None, None));
        }
        ClientCommand::Resume {
            message_id,
            after_seq,
            ..
        } => {
            let message = message_in(message_id.clone()).await?;
            match chat.resume(&message, after_seq).await? {
                Resume::Live(chunks) => {
                    let chunks = chunks
                        .into_iter()
                        .map(|(seq, delta, is_final)| {
                            let frame = ServerFrame::StreamChunk {
                                message_id: message_id.clone(),
                                seq,
                                delta,
                                is_final,
                            };
                            (seq, serde_json::to_string(&frame).unwrap_or_default())
                        })
                        .collect();
                    out.push(Outbound::Replay {
                        message_id: message_id.into(),
                        after_seq,
                        chunks,
                    });
                }
                Resume::Finished(message) => {
                    out.push(frame(&ServerFrame::MessageUpdated { message: *message }));
                }
            }
            out.extend(ack(command_id, None, None));
        }
    }
    Ok(out)
}

async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbound: mpsc::Receiver<Outbound>,
    kick: Kick,
    settings: WsSettings,
    missed_pongs: Arc<AtomicU32>,
    expires_at: u64,
    mut session: tokio::sync::broadcast::Receiver<Arc<kiln_core::hub::HubMessage>>,
) {
    let mut filter = StreamFilter::default();
    let mut heartbeat = tokio::time::interval(settings.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let expiry = tokio::time::sleep(Duration::from_secs(expires_at.saturating_sub(now)));
    tokio::pin!(expiry);
    loop {
        let mut close_after = false;
        let frames = tokio::select! {
            (code, reason) = kick.kicked() => {
                let frame = CloseFrame { code, reason: reason.into() };
                let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(Some(frame)))).await;
                return;
            }
            () = &mut expiry => {
                kick.kick(close::POLICY, "the session expired; reconnect");
                continue;
            }
            event = session.recv() => {
                match event {
                    Ok(message) if message.kind == "session_ended" => {
                        kick.kick(close::POLICY, "the session ended");
                    }
                    _ => {}
                }
                continue;
            }
            _ = heartbeat.tick() => {
                if missed_pongs.fetch_add(1, Ordering::Relaxed) >= settings.missed_pongs {
                    tracing::debug!("chat socket silent; closing it");
                    kick.kick(close::GOING_AWAY, "no answer to pings");
                    continue;
                }
                vec![Message::Ping(Default::default())]
            }
            item = outbound.recv() => {
                let Some(item) = item else { return };
                let texts = match item {
                    Outbound::Hub(message) => match &message.position {
                        Some((message_id, seq)) => filter.live(message_id, *seq, &message.json),
                        None => {
                            if message.kind == "thread_deleted" {
                                close_after = true;
                            }
                            vec![message.json.to_string()]
                        }
                    },
                    Outbound::Own(text) => vec![text],
                    Outbound::Replay { message_id, after_seq, chunks } => {
                        filter.replay(&message_id, after_seq, chunks)
                    }
                };
                texts.into_iter().map(|text| Message::Text(text.into())).collect()
            }
        };
        for frame in frames {
            tokio::select! {
                sent = sink.send(frame) => if sent.is_err() { return },
                _ = kick.kicked() => break,
            }
        }
        if close_after {
            // Once the frame is out, so the client knows not to reconnect.
            kick.kick(close::THREAD_DELETED, "the thread was deleted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_commands_keep_their_command_id_when_it_can_be_read() {
        let (id, command) = parse(r#"{"type":"fly","command_id":"c1"}"#);
        assert_eq!(id.as_deref(), Some("c1"));
        assert!(command.unwrap_err().detail.contains("unknown command"));
        let (id, command) = parse("not json");
        assert_eq!(id, None);
        assert_eq!(command.unwrap_err().kind, ErrorKind::BadRequest);
        let (_, command) = parse(r#"{"type":"send_message","command_id":"c2"}"#);
        assert_eq!(command.unwrap_err().kind, ErrorKind::ValidationError);
    }

    #[test]
    fn the_budget_counts_per_minute() {
        let mut budget = CommandBudget {
            per_minute: 2,
            window_start: Instant::now(),
            used: 0,
        };
        assert!(budget.allow() && budget.allow());
        assert!(!budget.allow());
        budget.window_start -= Duration::from_secs(61);
        assert!(budget.allow());
    }
}
