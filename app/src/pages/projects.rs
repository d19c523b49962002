use kiln_types::{PROJECT_DESCRIPTION_MAX_CHARS, PROJECT_NAME_MAX_CHARS, Page, Project};
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    pages::time::When,
    server_fns::{CreateProject, list_projects},
    session::{CsrfField, ErrorNotice},
};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    // A created project empties the form for the next one.
    let form = NodeRef::<leptos::html::Form>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
    // Re-read the list whenever a create finishes.
    let query = use_query_map();
    let projects = crate::json::resource(
        move || (create.version().get(), query.read().get("after")),
        |(_, after)| list_projects(after),
    );
    let error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <ErrorNotice error/> })
    };
    view! {
        <h1>"Projects"</h1>
        <section class="card" aria-labelledby="new-project">
            <h2 id="new-project">"New project"</h2>
            <ActionForm action=create node_ref=form>
                <CsrfField/>
                <label for="project-name">"Name"</label>
                <input
                    id="project-name"
                    name="name"
                    required
                    maxlength=PROJECT_NAME_MAX_CHARS
                    autocomplete="off"
                />
                <label for="project-description">"Description"</label>
                <textarea
                    id="project-description"
                    name="description"
                    rows="2"
                    maxlength=PROJECT_DESCRIPTION_MAX_CHARS
                ></textarea>
                <button type="submit" disabled=move || create.pending().get()>
                    "Create project"
                </button>
            </ActionForm>
            {error}
        </section>
        <Transition fallback=|| view! { <p>"Loading projects…"</p> }>
            {move || Suspend::new(async move {
                match projects.await {
                    Ok(page) => view! { <ProjectList page/> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ProjectList(page: Page<Project>) -> impl IntoView {
    let Page {
        items: projects,
        next_cursor,
        ..
    } = page;
    let more = next_cursor.map(|cursor| {
        view! { <p><a href=format!("/?after={cursor}")>"Older projects →"</a></p> }
    });
    if projects.is_empty() {
        return view! { <p class="empty">"No projects yet. Create your first one above."</p> }
            .into_any();
    }
    view! {
        <ul class="projects" aria-label="Projects">
            {projects
                .into_iter()
                .map(|p| {
                    view! {
                        <li class="project">
                            <a class="project-name" href=format!("/projects/{}", p.id)>{p.name}</a>
                            <span class=format!("status status-{}", p.status.as_str())>{p.status.as_str()}</span>
                            <span class="project-description">{p.description}</span>
                            <span class="project-stats">
                                {format!("{} files · {} threads · active ", p.stats.file_count, p.stats.thread_count)}
                                <When at=p.last_activity_at.clone()/>
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        {more}
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn project(name: &str) -> Project {
        Project {
            id: "p1".into(),
            name: name.into(),
            description: "<img src=x onerror=alert(1)>".into(),
            status: kiln_types::ProjectStatus::Active,
            settings: Default::default(),
            stats: Default::default(),
            created_at: "2026-11-21T00:00:00Z".into(),
            last_activity_at: "2026-11-21T00:00:00Z".into(),
        }
    }

    fn page(items: Vec<Project>) -> Page<Project> {
        Page {
            items,
            next_cursor: None,
            prev_cursor: None,
        }
    }

    #[test]
    fn project_text_is_escaped_in_server_rendered_html() {
        let owner = Owner::new();
        owner.set();
        let html = view! { <ProjectList page=page(vec![project("<script>alert(1)</script>")])/> }
            .to_html();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
    }

    #[test]
    fn an_empty_list_invites_the_first_project() {
        let owner = Owner::new();
        owner.set();
        let html = view! { <ProjectList page=page(Vec::new())/> }.to_html();
        assert!(html.contains("No projects yet"), "{html}");
    }
}
