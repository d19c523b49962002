//! A project's chat threads: start one, open one, rename, archive, un-archive, delete.

use kiln_types::{Page, THREAD_TITLE_MAX_CHARS, Thread};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::{
    pages::time::When,
    server_fns::{ArchiveThread, DeleteThread, NewThread, RenameThread, project_threads},
    session::{CsrfField, ErrorNotice},
};

#[component]
pub fn ChatPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let project_id = move || params.read().get("id").unwrap_or_default();
    let archived = move || query.read().get("archived").as_deref() == Some("true");
    let create = ServerAction::<NewThread>::new();
    let rename = ServerAction::<RenameThread>::new();
    let archive = ServerAction::<ArchiveThread>::new();
    let delete = ServerAction::<DeleteThread>::new();
    // A new thread opens at once.
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(thread)) = create.value().get() {
            navigate(&format!("/threads/{}", thread.id), Default::default());
        }
    });
    let threads = crate::json::resource(
        move || {
            (
                project_id(),
                archived(),
                query.read().get("after"),
                (
                    rename.version().get(),
                    archive.version().get(),
                    delete.version().get(),
                ),
            )
        },
        |(project_id, archived, after, _)| project_threads(project_id, archived, after),
    );
    let errors = move || {
        [
            create.value().get().and_then(Result::err),
            rename.value().get().and_then(Result::err),
            archive.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .map(|error| view! { <ErrorNotice error/> })
        .collect_view()
    };
    // The project's name arrives with the threads.
    let project_name = move || {
        Suspend::new(async move {
            threads
                .await
                .map_or_else(|_| "Project".to_owned(), |list| list.project_name)
        })
    };
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href=move || format!("/projects/{}", project_id())>
                <Transition fallback=|| "Project">{project_name}</Transition>
            </a>
            " / Chat"
        </nav>
        <Title text="Chat · Kiln"/>
        <h1>"Chat"</h1>
        <section class="card" aria-labelledby="new-thread">
            <h2 id="new-thread">"New thread"</h2>
            <ActionForm action=create>
                <CsrfField/>
                <input type="hidden" name="project_id" value=project_id/>
                <label for="thread-title">"Title (optional)"</label>
                <input id="thread-title" name="title" maxlength=THREAD_TITLE_MAX_CHARS autocomplete="off"/>
                <button type="submit" disabled=move || create.pending().get()>"Start a thread"</button>
            </ActionForm>
        </section>
        {errors}
        <nav class="tabs" aria-label="Threads">
            <a href=move || format!("/projects/{}/chat", project_id()) aria-current=move || (!archived()).then_some("page")>"Active"</a>
            <a href=move || format!("/projects/{}/chat?archived=true", project_id()) aria-current=move || archived().then_some("page")>"Archived"</a>
        </nav>
        <Transition fallback=|| view! { <p>"Loading threads…"</p> }>
            {move || Suspend::new(async move {
                match threads.await {
                    Ok(list) => view! {
                        <ThreadList page=list.threads archived=archived() project_id=project_id() rename archive delete/>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ThreadList(
    page: Page<Thread>,
    archived: bool,
    project_id: String,
    rename: ServerAction<RenameThread>,
    archive: ServerAction<ArchiveThread>,
    delete: ServerAction<DeleteThread>,
) -> impl IntoView {
    let more = page.next_cursor.map(|cursor| {
        let archived = if archived { "archived=true&" } else { "" };
        view! { <p><a href=format!("/projects/{project_id}/chat?{archived}after={cursor}")>"Older threads →"</a></p> }
    });
    if page.items.is_empty() {
        let text = if archived {
            "No archived threads."
        } else {
            "No active threads. Start one above and ask about your code (archived ones are under Archived)."
        };
        return view! { <p class="empty">{text}</p> }.into_any();
    }
    view! {
        <ul class="threads" aria-label=if archived { "Archived threads" } else { "Threads" }>
            // Keyed, so a thread's open "Manage" panel stays with that thread when the
            // list changes around it (positionally, the next thread inherited it).
            <For
                each=move || page.items.clone()
                key=|thread| (thread.id.clone(), thread.title.clone(), thread.message_count)
                let:thread
            >
                <ThreadItem thread rename archive delete/>
            </For>
        </ul>
        {more}
    }
    .into_any()
}

#[component]
fn ThreadItem(
    thread: Thread,
    rename: ServerAction<RenameThread>,
    archive: ServerAction<ArchiveThread>,
    delete: ServerAction<DeleteThread>,
) -> impl IntoView {
    let archived = thread.archived_at.is_some();
    let active_at = thread
        .last_message_at
        .clone()
        .unwrap_or_else(|| thread.created_at.clone());
    let rename_id = format!("rename-{}", thread.id);
    let id = thread.id.clone();
    let (id1, id2, id3) = (id.clone(), id.clone(), id.clone());
    view! {
        <li class="thread">
            <a class="thread-title" href=format!("/threads/{id}")>{thread.title.clone()}</a>
            <span class="thread-meta">
                {format!("{} messages · ", thread.message_count)}
                <When at=active_at/>
            </span>
            <details class="thread-actions">
                <summary>"Manage"<span class="visually-hidden">{format!(" {}", thread.title)}</span></summary>
                <ActionForm action=rename attr:class="inline">
                    <CsrfField/>
                    <input type="hidden" name="thread_id" value=id1/>
                    <label for=rename_id.clone()>"Title"</label>
                    <input id=rename_id name="title" required maxlength=THREAD_TITLE_MAX_CHARS value=thread.title.clone()/>
                    <button type="submit">"Rename"</button>
                </ActionForm>
                <ActionForm action=archive attr:class="inline">
                    <CsrfField/>
                    <input type="hidden" name="thread_id" value=id2/>
                    <input type="hidden" name="archived" value=(!archived).to_string()/>
                    <button type="submit">{if archived { "Un-archive" } else { "Archive" }}</button>
                </ActionForm>
                <ActionForm action=delete attr:class="inline confirm-delete">
                    <CsrfField/>
                    <input type="hidden" name="thread_id" value=id3/>
                    <label class="confirm">
                        <input type="checkbox" required/>
                        " I understand its messages are deleted too"
                    </label>
                    <button type="submit" class="danger">"Delete thread"</button>
                </ActionForm>
            </details>
        </li>
    }
}
