//! Searching a project's code: words and identifiers, with optional language and path
//! filters; each hit is a line range of a file with the matching words marked.

use kiln_types::SearchHit;
use leptos::prelude::*;
use leptos_router::{
    components::Form,
    hooks::{use_params_map, use_query_map},
};

use crate::{server_fns::search_code, session::ErrorNotice};

#[component]
pub fn SearchPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let project = move || params.read().get("id").unwrap_or_default();
    let field = move |name: &str| query.read().get(name).filter(|v| !v.trim().is_empty());
    let results = crate::json::resource(
        move || (project(), field("q"), field("language"), field("path")),
        |(project, q, language, path)| async move {
            match q {
                Some(q) => search_code(project, q, language, path).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <p><a href=move || format!("/projects/{}/files", project())>"← Files"</a></p>
        <h1>"Search"</h1>
        <Form method="GET" action="">
            <label for="search-q">"Words or identifiers"</label>
            <input id="search-q" name="q" type="search" required maxlength="500"
                prop:value=move || field("q").unwrap_or_default()
                placeholder="parseConfig, parse_config or parse config"/>
            <label for="search-language">"Language (optional)"</label>
            <input id="search-language" name="language" prop:value=move || field("language").unwrap_or_default()/>
            <label for="search-path">"Paths (optional glob, e.g. src/**/*.rs)"</label>
            <input id="search-path" name="path" prop:value=move || field("path").unwrap_or_default()/>
            <button type="submit">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(Some(results)) => view! { <Hits hits=results.hits/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Hits(hits: Vec<SearchHit>) -> impl IntoView {
    let count = hits.len();
    let items = hits
        .into_iter()
        .map(|hit| {
            let location = format!("{}:{}–{}", hit.path, hit.start_line, hit.end_line);
            view! {
                <li class="hit">
                    <p class="hit-meta">
                        <a class="hit-link" href=format!("/files/{}#L{}", hit.file_id, hit.start_line)>{location}</a>
                        " "<span class="muted">{hit.language.clone()}</span>
                    </p>
                    <pre><code>{marked(&hit.text, &hit.highlights)}</code></pre>
                </li>
            }
        })
        .collect_view();
    view! {
        <h2 role="status">{format!("{count} result{}", if count == 1 { "" } else { "s" })}</h2>
        <ol class="hits">{items}</ol>
    }
}

/// `text` with the highlighted byte ranges in `<mark>`.
fn marked(text: &str, ranges: &[[u32; 2]]) -> Vec<AnyView> {
    let mut pieces = Vec::new();
    let mut at = 0;
    for &[start, end] in ranges {
        let (start, end) = (start as usize, end as usize);
        let (Some(before), Some(word)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        pieces.push(view! { {before.to_owned()} }.into_any());
        pieces.push(view! { <mark>{word.to_owned()}</mark> }.into_any());
        at = end;
    }
    pieces.push(view! { {text.get(at..).unwrap_or_default().to_owned()} }.into_any());
    pieces
}
