//! One project, for its owner.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{server_fns::get_project, session::ErrorNotice};

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let project = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_project,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading project…"</p> }>
            {move || Suspend::new(async move {
                match project.await {
                    Ok(project) => view! {
                        <h1 class="project-title">{project.name}</h1>
                        <p class="project-description">{project.description}</p>
                        <p class="muted">"Created " <time datetime=project.created_at.clone()>{project.created_at.clone()}</time></p>
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
    }
}
