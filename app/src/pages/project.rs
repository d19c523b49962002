//! One project, for its owner: overview, stats, status, settings, timeline, delete.

use kiln_types::{
    ApiError, PROJECT_DESCRIPTION_MAX_CHARS, PROJECT_NAME_MAX_CHARS, PROJECT_SETTING_MAX_CHARS,
    Project, TimelineEvent,
};
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_params_map;

use crate::{
    pages::time::When,
    server_fns::{
        ChangeProjectStatus, DeleteProject, UpdateProject, get_project, project_timeline,
    },
    session::{CsrfField, ErrorNotice},
};

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let update = ServerAction::<UpdateProject>::new();
    let status = ServerAction::<ChangeProjectStatus>::new();
    let delete = ServerAction::<DeleteProject>::new();
    // Every successful change re-reads the project and its timeline (the timeline grows
    // in place); a failed one leaves the form as the user typed it.
    // Keyed on the activity time each success returns: failures do not change it.
    let saved = Memo::new(move |previous: Option<&(Option<String>, Option<String>)>| {
        let (updated, moved) = previous.cloned().unwrap_or_default();
        let stamp = |result: Option<Result<Project, ApiError>>, before: Option<String>| match result
        {
            Some(Ok(project)) => Some(project.last_activity_at),
            _ => before,
        };
        (
            stamp(update.value().get(), updated),
            stamp(status.value().get(), moved),
        )
    });
    let changes = move || (id(), saved.get());
    let project = crate::json::resource(changes, |(id, ..)| get_project(id));
    let timeline = crate::json::resource(changes, |(id, ..)| project_timeline(id));
    let errors = move || {
        [
            update.value().get().and_then(Result::err),
            status.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .map(|error| view! { <ErrorNotice error/> })
        .collect_view()
    };
    view! {
        <Suspense fallback=|| view! { <p>"Loading project…"</p> }>
            {move || Suspend::new(async move {
                match project.await {
                    Ok(project) => view! {
                        <Overview project=project.clone()/>
                        {errors}
                        <StatusControls project=project.clone() action=status/>
                        <EditForm project=project.clone() action=update/>
                        <DeleteForm project action=delete/>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <h1>"Project unavailable"</h1>
                        <ErrorNotice error/>
                        <p><a href="/">"Back to your projects"</a></p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                timeline.await.ok().map(|page| view! { <Timeline events=page.items/> })
            })}
        </Suspense>
    }
}

#[component]
fn Overview(project: Project) -> impl IntoView {
    let stats = project.stats;
    let languages = stats
        .languages
        .iter()
        .map(|(language, files)| format!("{language} ({files})"))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <h1 class="project-title">{project.name}</h1>
        <p>
            <span class=format!("status status-{}", project.status.as_str())>{project.status.as_str()}</span>
            " "
            <span class="project-description">{project.description}</span>
        </p>
        <nav class="actions" aria-label="Project">
            <a href=format!("/projects/{}/chat", project.id)>"Chat"</a>
            <a href=format!("/projects/{}/files", project.id)>"Files"</a>
            <a href=format!("/projects/{}/search", project.id)>"Search"</a>
        </nav>
        <section class="card" aria-labelledby="stats">
            <h2 id="stats">"Stats"</h2>
            <dl class="stats">
                <dt>"Files"</dt><dd class="stat-files">{stats.file_count}</dd>
                <dt>"Size"</dt><dd>{format!("{} bytes · {} lines", stats.total_bytes, stats.total_lines)}</dd>
                <dt>"Languages"</dt><dd>{if languages.is_empty() { "–".to_owned() } else { languages }}</dd>
                <dt>"Chats"</dt><dd>{format!("{} threads · {} messages", stats.thread_count, stats.message_count)}</dd>
                <dt>"Last chat"</dt><dd>{match stats.last_chat_at {
                    Some(at) => view! { <When at/> }.into_any(),
                    None => "never".into_any(),
                }}</dd>
                <dt>"Created"</dt><dd><When at=project.created_at.clone()/></dd>
            </dl>
        </section>
    }
}

#[component]
fn StatusControls(project: Project, action: ServerAction<ChangeProjectStatus>) -> impl IntoView {
    let id = project.id;
    let buttons = project
        .status
        .next()
        .iter()
        .map(|to| {
            let id = id.clone();
            let label = match to.as_str() {
                "active" => "Activate",
                "paused" => "Pause",
                _ => "Archive",
            };
            view! {
                <ActionForm action attr:class="inline">
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="status" value=to.as_str()/>
                    <button type="submit">{label}</button>
                </ActionForm>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="status-heading">
            <h2 id="status-heading">"Status"</h2>
            <div class="actions">{buttons}</div>
        </section>
    }
}

#[component]
fn EditForm(project: Project, action: ServerAction<UpdateProject>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="edit-heading">
            <h2 id="edit-heading">"Edit project"</h2>
            <ActionForm action>
                <CsrfField/>
                <input type="hidden" name="id" value=project.id/>
                <label for="edit-name">"Name"</label>
                <input id="edit-name" name="name" required maxlength=PROJECT_NAME_MAX_CHARS value=project.name/>
                <label for="edit-description">"Description"</label>
                <textarea id="edit-description" name="description" rows="2" maxlength=PROJECT_DESCRIPTION_MAX_CHARS>
                    {project.description}
                </textarea>
                <label for="edit-model">"LLM model (empty: the server's default)"</label>
                <input id="edit-model" name="model" maxlength="200" value=project.settings.model.unwrap_or_default()/>
                <label for="edit-instructions">"Instructions for the LLM"</label>
                <textarea id="edit-instructions" name="instructions" rows="3" maxlength=PROJECT_SETTING_MAX_CHARS>
                    {project.settings.instructions}
                </textarea>
                <button type="submit" disabled=move || action.pending().get()>"Save changes"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn DeleteForm(project: Project, action: ServerAction<DeleteProject>) -> impl IntoView {
    view! {
        <section class="card danger" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete project"</h2>
            <ActionForm action>
                <CsrfField/>
                <input type="hidden" name="id" value=project.id/>
                <label class="check">
                    <input type="checkbox" name="confirm" required/>
                    {format!(" Delete \"{}\" and everything in it. This cannot be undone.", project.name)}
                </label>
                <button type="submit" class="danger">"Delete project"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Timeline(events: Vec<TimelineEvent>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <ol class="timeline" aria-label="Timeline">
                {events
                    .into_iter()
                    .map(|event| view! {
                        <li class=format!("event event-{}", event.event_type.as_str())>
                            <span class="event-title">{event.title}</span>
                            " "
                            <When at=event.created_at.clone()/>
                        </li>
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}
