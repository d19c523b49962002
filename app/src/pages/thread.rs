//! One thread: the branch on screen (‹ 2/3 › between siblings), the reply streaming
//! in place, Stop and Regenerate, editing and deleting one's own messages, older
//! messages on demand, and the composer. Rendered on the server; once hydrated the
//! page talks over the thread's WebSocket.

use kiln_types::{ApiError, Citation, MessageRole, MessageStatus, Snippet, Thread, ThreadView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    chat_state::{Conversation, Outcome, Step},
    pages::time::When,
    server_fns::{load_thread, message_history},
    session::{ErrorNotice, use_session},
};

#[component]
pub fn ThreadPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let view = crate::json::resource(id, |id| load_thread(id, None));
    let session = use_session();
    view! {
        <Suspense fallback=|| view! { <p>"Loading the conversation…"</p> }>
            {move || Suspend::new(async move {
                let user_id = session.await.ok().flatten().map(|s| s.user.id).unwrap_or_default();
                match view.await {
                    Ok(thread) => view! { <ThreadScreen start=thread user_id/> }.into_any(),
                    Err(error) => view! {
                        <h1>"Thread unavailable"</h1>
                        <ErrorNotice error/>
                        <p><a href="/">"Back to your projects"</a></p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Everything the thread's controls need to act.
#[derive(Clone, Copy)]
struct Chat {
    conversation: RwSignal<Conversation>,
    thread: RwSignal<Thread>,
    errors: RwSignal<Vec<ApiError>>,
    status: RwSignal<String>,
    announcement: RwSignal<String>,
    connected: RwSignal<bool>,
    /// The thread was deleted (here or elsewhere) while the page was open.
    deleted: RwSignal<bool>,
    user_id: StoredValue<String>,
    #[cfg(feature = "hydrate")]
    socket: StoredValue<Option<crate::chat_socket::ChatSocket>, LocalStorage>,
    next_command: StoredValue<u64>,
}

impl Chat {
    /// Sends a command, with a fresh `command_id`; `None` when offline.
    fn send(
        &self,
        command: impl FnOnce(Option<String>) -> kiln_types::ClientCommand,
    ) -> Option<String> {
        let id = self.next_command.with_value(|n| *n + 1);
        self.next_command.set_value(id);
        let command_id = format!("c{id}-{}", self.thread.with_untracked(|t| t.id.clone()));
        let command = command(Some(command_id.clone()));
        #[cfg(feature = "hydrate")]
        {
            let sent = self
                .socket
                .with_value(|socket| socket.as_ref().is_some_and(|s| s.send(&command)));
            if sent {
                return Some(command_id);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = command;
        self.fail(ApiError::new(
            kiln_types::ErrorKind::ServiceUnavailable,
            "Not connected: reconnect and try again.",
        ));
        None
    }

    /// Sends a question after `parent_id` (or, `at_start`, as a new first question),
    /// shown at once until the server has it; `false` when it could not be sent.
    fn ask(&self, content: String, parent_id: Option<String>, at_start: bool) -> bool {
        let (text, parent) = (content.clone(), parent_id.clone());
        let sent = self.send(move |command_id| kiln_types::ClientCommand::SendMessage {
            command_id,
            content: text,
            parent_id: parent,
            at_start,
        });
        let Some(command_id) = sent else {
            return false;
        };
        let user_id = self.user_id.get_value();
        self.conversation
            .update(|c| c.add_pending(&command_id, &content, parent_id, &user_id));
        true
    }

    /// Shows `error` (once: a refusal repeated is not shown twice).
    fn fail(&self, error: ApiError) {
        self.errors.update(|errors| {
            if !errors.contains(&error) {
                errors.push(error);
            }
        });
    }

    /// Changes are refused: the thread is archived or gone.
    fn read_only(&self) -> bool {
        self.deleted.get() || self.thread.with(|t| t.archived_at.is_some())
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn apply(&self, outcomes: Vec<Outcome>) {
        for outcome in outcomes {
            match outcome {
                Outcome::Render(id) => {
                    let conversation = self.conversation;
                    leptos::task::spawn_local(async move {
                        if let Ok(rendered) = crate::server_fns::rendered_message(id.clone()).await
                        {
                            conversation.update(|c| c.set_html(&id, rendered.html));
                        }
                    });
                }
                Outcome::Status(text) => self.status.set(text),
                Outcome::Announce(text) => self.announcement.set(text),
                Outcome::Failed(error) => self.fail(error),
                Outcome::Thread(thread) => self.thread.set(thread),
            }
        }
    }
}

/// Asks for what is missing of every reply still streaming.
#[cfg(feature = "hydrate")]
fn resume_streaming(chat: Chat) {
    for (message_id, after_seq) in chat.conversation.with_untracked(Conversation::streaming) {
        chat.send(|command_id| kiln_types::ClientCommand::Resume {
            command_id,
            message_id,
            after_seq,
        });
    }
}

#[component]
fn ThreadScreen(start: ThreadView, user_id: String) -> impl IntoView {
    let ThreadView {
        thread,
        project_name,
        messages,
        older_cursor,
    } = start;
    let chat = Chat {
        conversation: RwSignal::new(Conversation::new(messages)),
        thread: RwSignal::new(thread),
        errors: RwSignal::new(Vec::new()),
        status: RwSignal::new(String::new()),
        announcement: RwSignal::new(String::new()),
        connected: RwSignal::new(false),
        deleted: RwSignal::new(false),
        user_id: StoredValue::new(user_id),
        #[cfg(feature = "hydrate")]
        socket: StoredValue::new_local(None),
        next_command: StoredValue::new(0),
    };
    let older = RwSignal::new(older_cursor);
    let connection_text = RwSignal::new("Connecting…".to_owned());
    #[cfg(feature = "hydrate")]
    {
        use crate::chat_socket::{ChatSocket, Connection};
        let thread_id = chat.thread.get_untracked().id;
        let opened_before = StoredValue::new(false);
        Effect::new(move || {
            if chat.socket.with_value(Option::is_some) {
                return;
            }
            let socket = ChatSocket::connect(
                &thread_id,
                move |frame| {
                    let mut outcomes = Vec::new();
                    chat.conversation.update(|c| outcomes = c.apply(frame));
                    chat.apply(outcomes);
                },
                move |state| {
                    chat.connected.set(state == Connection::Open);
                    chat.deleted.set(state == Connection::Deleted);
                    connection_text.set(match state {
                        Connection::Connecting => "Connecting…".into(),
                        Connection::Open => "Connected".into(),
                        Connection::Retrying(seconds) => {
                            format!("Connection lost. Reconnecting in {seconds} s…")
                        }
                        Connection::Deleted => "This thread was deleted.".into(),
                    });
                    if state == Connection::Open && opened_before.get_value() {
                        // Frames may have been missed while away: take the server's
                        // view again, then resume what is still streaming.
                        let thread_id = chat.thread.with_untracked(|t| t.id.clone());
                        leptos::task::spawn_local(async move {
                            if let Ok(view) = load_thread(thread_id, None).await {
                                chat.thread.set(view.thread);
                                chat.conversation.update(|c| c.refresh(view.messages));
                            }
                            resume_streaming(chat);
                        });
                    } else if state == Connection::Open {
                        opened_before.set_value(true);
                        // Pick up replies where the page left them.
                        resume_streaming(chat);
                    }
                },
            );
            chat.socket.set_value(Some(socket));
        });
        on_cleanup(move || {
            chat.socket.with_value(|socket| {
                if let Some(socket) = socket {
                    socket.close();
                }
            })
        });
    }
    let reconnect = move |_| {
        #[cfg(feature = "hydrate")]
        chat.socket.with_value(|socket| {
            if let Some(socket) = socket {
                socket.reconnect_now();
            }
        });
    };
    let load_older = move |_| {
        let Some(cursor) = older.get_untracked() else {
            return;
        };
        let thread_id = chat.thread.with_untracked(|t| t.id.clone());
        leptos::task::spawn_local(async move {
            match load_thread(thread_id, Some(cursor)).await {
                Ok(page) => {
                    older.set(page.older_cursor);
                    chat.conversation.update(|c| c.merge_older(page.messages));
                }
                Err(error) => chat.fail(error),
            }
        });
    };
    let title = move || chat.thread.with(|t| t.title.clone());
    let project_id = chat.thread.with_untracked(|t| t.project_id.clone());
    let (project_href, chat_href) = (
        format!("/projects/{project_id}"),
        format!("/projects/{project_id}/chat"),
    );
    let archived = move || chat.thread.with(|t| t.archived_at.is_some());
    let unarchive = move |_| {
        let thread_id = chat.thread.with_untracked(|t| t.id.clone());
        leptos::task::spawn_local(async move {
            match crate::server_fns::archive_thread(thread_id, false).await {
                Ok(thread) => chat.thread.set(thread),
                Err(error) => chat.fail(error),
            }
        });
    };
    // The tab's title follows a rename. Not a reactive `Title`: leptos_meta keeps its
    // closure after the page has gone and ran it on the disposed thread (a panic on
    // the next page).
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        let text = format!("{} · Kiln", title());
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&text);
        }
    });
    view! {
        <Title text=format!("{} · Kiln", chat.thread.with_untracked(|t| t.title.clone()))/>
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href=project_href>{project_name}</a>" / "<a href=chat_href>"Chat"</a>" / "{title}
        </nav>
        <h1>{title}</h1>
        <Show when=move || archived() && !chat.deleted.get()>
            <p class="archived-note">"This thread is archived and read-only. "
                <button type="button" on:click=unarchive>"Un-archive"</button>
            </p>
        </Show>
        <p class="connection" data-connected=move || chat.connected.get().to_string()>
            <span role="status">{move || connection_text.get()}</span>
            <Show when=move || !chat.connected.get() && !chat.deleted.get()>
                " "<button type="button" class="link" on:click=reconnect>"Reconnect"</button>
            </Show>
        </p>
        <div class="visually-hidden" role="status" aria-live="polite">{move || chat.status.get()}</div>
        <div class="visually-hidden" aria-live="polite">{move || chat.announcement.get()}</div>
        {move || chat.errors.get().into_iter().map(|error| view! { <ErrorNotice error/> }).collect_view()}
        <Show when=move || older.get().is_some()>
            <button type="button" class="older" on:click=load_older>"Load older messages"</button>
        </Show>
        <ol class="messages" aria-label="Messages">
            <For
                each=move || chat.conversation.with(Conversation::path)
                key=|step| step.key()
                let:step
            >
                <MessageView step chat/>
            </For>
        </ol>
        <Composer chat archived=Signal::derive(archived)/>
    }
    .into_any()
}

#[component]
fn MessageView(step: Step, chat: Chat) -> impl IntoView {
    let Step {
        entry,
        position,
        siblings,
    } = step;
    let message = entry.message.clone();
    let id = message.id.clone();
    let mine = message.role == MessageRole::User
        && message.author_id.as_deref() == Some(chat.user_id.get_value().as_str());
    let streaming = message.status == MessageStatus::Streaming;
    let role = match message.role {
        MessageRole::User => "You",
        MessageRole::Assistant => "Assistant",
    };
    let switcher = (siblings.len() > 1).then(|| {
        let count = siblings.len();
        let previous = siblings.get(position.wrapping_sub(2)).cloned();
        let next = siblings.get(position).cloned();
        view! {
            <span class="branches" role="group" aria-label="Versions">
                <button type="button" class="link" aria-label="Previous version" disabled=previous.is_none()
                    on:click=move |_| if let Some(id) = previous.clone() { chat.conversation.update(|c| c.choose(&id)) }>"‹"</button>
                {format!("{position}/{count}")}
                <button type="button" class="link" aria-label="Next version" disabled=next.is_none()
                    on:click=move |_| if let Some(id) = next.clone() { chat.conversation.update(|c| c.choose(&id)) }>"›"</button>
            </span>
        }
    });
    let body = match (&entry.html, streaming) {
        (Some(html), false) => {
            view! { <div class="markdown" inner_html=html.clone()></div> }.into_any()
        }
        (_, true) => {
            // The text grows in place; the rest of the message stays as it is.
            let id = id.clone();
            view! { <div class="plain">{move || chat.conversation.with(|c| c.content(&id))}</div> }
                .into_any()
        }
        (None, false) => view! { <div class="plain">{message.content.clone()}</div> }.into_any(),
    };
    let failure = message
        .error
        .clone()
        .map(|error| view! { <p class="error">{error}</p> });
    let send_failed = entry.send_failed.clone().map(|reason| {
        let placeholder = id.clone();
        view! {
            <p class="error">{format!("Not sent: {reason}")}" "
                <button type="button" class="link" on:click=move |_| {
                    let mut again = None;
                    chat.conversation.update(|c| again = c.take_failed(&placeholder));
                    if let Some((content, parent)) = again {
                        let at_start = parent.is_none();
                        chat.ask(content, parent, at_start);
                    }
                }>"Retry"</button>
            </p>
        }
    });
    let actions = message_actions(chat, &message, mine);
    let edited = message
        .edited_at
        .clone()
        .map(|_| view! { <History message_id=id.clone()/> });
    view! {
        <li class=format!("message message-{}", if message.role == MessageRole::User { "user" } else { "assistant" })
            data-status=message.status.as_str() data-id=id.clone()>
            <header>
                <strong>{role}</strong>
                {message.model.clone().filter(|_| message.role == MessageRole::Assistant).map(|m| view! { <span class="model">{m}</span> })}
                " "<When at=message.created_at.clone()/>
                {switcher}
                // Stop sits above the text, which grows below it: a button under
                // streaming text moves away between a person's press and release.
                {streaming.then(|| {
                    let id = id.clone();
                    view! {
                        <span class="replying">"replying…"</span>" "
                        <button type="button" on:click=move |_| {
                            chat.send(|command_id| kiln_types::ClientCommand::StopGeneration {
                                command_id,
                                message_id: id.clone(),
                            });
                        }>"Stop"</button>
                    }
                })}
                {(message.status == MessageStatus::Stopped).then(|| view! {
                    <span class="stopped">"stopped"</span>
                })}
            </header>
            {body}
            {failure}
            {send_failed}
            <Citations citations=message.citations.clone()/>
            <CodeBlocks snippets=message.snippets.clone()/>
            {edited}
            {actions}
        </li>
    }
    .into_any()
}

fn message_actions(chat: Chat, message: &kiln_types::Message, mine: bool) -> AnyView {
    let id = message.id.clone();
    let is_reply = message.role == MessageRole::Assistant;
    let streaming = message.status == MessageStatus::Streaming;
    let editing = RwSignal::new(false);
    let edit_box = NodeRef::<leptos::html::Textarea>::new();
    let draft = RwSignal::new(message.content.clone());
    let parent = message.parent_id.clone();
    let regenerate = {
        let id = id.clone();
        move |_| {
            chat.send(|command_id| kiln_types::ClientCommand::Regenerate {
                command_id,
                message_id: id.clone(),
            });
        }
    };
    let save = {
        let id = id.clone();
        move |_| {
            chat.send(|command_id| kiln_types::ClientCommand::EditMessage {
                command_id,
                message_id: id.clone(),
                content: draft.get_untracked(),
            });
            editing.set(false);
        }
    };
    // A new sibling of this question: same parent, or a new first question.
    let ask_again = move |_| {
        let at_start = parent.is_none();
        if chat.ask(draft.get_untracked(), parent.clone(), at_start) {
            editing.set(false);
        }
    };
    let delete = {
        let id = id.clone();
        move |_| {
            let confirmed = {
                #[cfg(feature = "hydrate")]
                {
                    web_sys::window()
                        .and_then(|w| w.confirm_with_message("Delete this message?").ok())
                        .unwrap_or(false)
                }
                #[cfg(not(feature = "hydrate"))]
                {
                    false
                }
            };
            if confirmed {
                chat.send(|command_id| kiln_types::ClientCommand::DeleteMessage {
                    command_id,
                    message_id: id.clone(),
                });
            }
        }
    };
    let read_only = move || chat.read_only();
    let answering = {
        let id = id.clone();
        move || chat.conversation.with(|c| c.is_answering(&id))
    };
    // A question being answered stays as it is until its reply ends.
    let unchangeable = Signal::derive(move || read_only() || answering());
    view! {
        <div class="message-actions">
            {(is_reply && !streaming).then(|| view! {
                <button type="button" on:click=regenerate disabled=read_only>"Regenerate"</button>
            })}
            {mine.then(|| view! {
                <button type="button" disabled=unchangeable on:click=move |_| {
                    editing.set(true);
                    // Into the box once it is there, so the keyboard follows.
                    request_animation_frame(move || {
                        if let Some(edit_box) = edit_box.get_untracked() {
                            let _ = edit_box.focus();
                        }
                    });
                }>"Edit"</button>
                <button type="button" on:click=delete disabled=unchangeable>"Delete"</button>
                <Show when=move || editing.get()>
                    <div class="edit">
                        <label>"Edit your message"
                            <textarea node_ref=edit_box prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) rows="3"></textarea>
                        </label>
                        <button type="button" on:click=save.clone()>"Save"</button>
                        <button type="button" on:click=ask_again.clone()>"Save as a new question"</button>
                        <button type="button" class="link" on:click=move |_| editing.set(false)>"Cancel"</button>
                    </div>
                </Show>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn Citations(citations: Vec<Citation>) -> impl IntoView {
    (!citations.is_empty()).then(|| {
        view! {
            <details class="citations">
                <summary>{format!("Code used ({})", citations.len())}</summary>
                <ul>
                    {citations.into_iter().map(|c| {
                        // A file that moved on opens the version quoted, at its lines.
                        let anchor = if c.changed { "V" } else { "L" };
                        let href = format!("/files/{}?version={}#{anchor}{}-{anchor}{}", c.file_id, c.version, c.start_line, c.end_line);
                        view! {
                            <li>
                                <a href=href>{format!("{}:{}–{}", c.path, c.start_line, c.end_line)}</a>
                                {c.changed.then(|| view! { " "<span class="changed">{format!("(changed since version {})", c.version)}</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </details>
        }
        .into_any()
    })
}

#[component]
fn CodeBlocks(snippets: Vec<Snippet>) -> impl IntoView {
    (!snippets.is_empty()).then(|| {
        view! {
            <ul class="code-blocks" aria-label="Code blocks">
                {snippets.into_iter().enumerate().map(|(index, snippet)| {
                    let label = format!("Copy code block {} ({})", index + 1, snippet.language.clone().unwrap_or_else(|| "text".into()));
                    let code = snippet.code.clone();
                    let copied = RwSignal::new(false);
                    view! {
                        <li>
                            <button type="button" on:click=move |_| {
                                #[cfg(feature = "hydrate")]
                                if let Some(window) = web_sys::window() {
                                    let _ = window.navigator().clipboard().write_text(&code);
                                }
                                #[cfg(not(feature = "hydrate"))]
                                let _ = &code;
                                copied.set(true);
                            }>{label}</button>
                            <span role="status">{move || copied.get().then_some(" Copied")}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    })
}

#[component]
fn History(message_id: String) -> impl IntoView {
    // Read once, when first opened. A plain signal, not a resource under `Suspense`: the
    // server renders this closed and empty, exactly what hydration finds (a local
    // resource never resolves on the server, and its boundary broke hydration of
    // every thread with an edited message).
    let edits = RwSignal::new(None::<Result<Vec<kiln_types::MessageEdit>, ApiError>>);
    let requested = StoredValue::new(false);
    let open = move |_| {
        if requested.get_value() {
            return;
        }
        requested.set_value(true);
        let id = message_id.clone();
        leptos::task::spawn_local(async move {
            edits.set(Some(message_history(id).await));
        });
    };
    view! {
        <details class="history" on:toggle=open>
            <summary>"edited"</summary>
            {move || match edits.get() {
                None => view! { <p>"Loading…"</p> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error/> }.into_any(),
                Some(Ok(edits)) => view! {
                    <ol>
                        {edits.into_iter().map(|edit| view! {
                            <li><When at=edit.edited_at/>" — "<span class="previous">{edit.previous_content}</span></li>
                        }).collect_view()}
                    </ol>
                }
                .into_any(),
            }}
        </details>
    }
    .into_any()
}

#[component]
fn Composer(chat: Chat, archived: Signal<bool>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Textarea>::new();
    let replying = move || chat.conversation.with(Conversation::is_replying);
    // Ready to type on arrival (the browser then scrolls to the newest messages,
    // which the composer follows).
    Effect::new(move || {
        if let Some(input) = input.get()
            && !archived.get_untracked()
        {
            let _ = input.focus();
        }
    });
    // Why Send is unavailable, in words (shown under the box); `None`: it is not.
    let blocked = move || {
        if chat.deleted.get() {
            Some("This thread was deleted.")
        } else if archived.get() {
            Some("This thread is archived: un-archive it to continue.")
        } else if !chat.connected.get() {
            Some("Not connected: you can send once the connection is back.")
        } else if replying() {
            Some("The assistant is replying: wait for it, or stop it, to ask again.")
        } else {
            None
        }
    };
    let submit = move || {
        let content = text.get_untracked();
        if content.trim().is_empty() || blocked().is_some() {
            return;
        }
        let parent = chat.conversation.with_untracked(Conversation::tip);
        let at_start = parent.is_none();
        // The text stays in the box unless it went out.
        if chat.ask(content, parent, at_start) {
            text.set(String::new());
        }
        if let Some(input) = input.get_untracked() {
            let _ = input.focus();
        }
    };
    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label for="composer">"Ask about this project's code"</label>
            <textarea
                id="composer"
                node_ref=input
                rows="3"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
                disabled=move || archived.get() || chat.deleted.get()
                aria-describedby="composer-help"
            ></textarea>
            <p id="composer-help" class="help">
                {move || blocked().unwrap_or("Enter sends, Shift+Enter starts a new line.")}
            </p>
            <button type="submit" disabled=move || blocked().is_some()>"Send"</button>
        </form>
    }
    .into_any()
}
