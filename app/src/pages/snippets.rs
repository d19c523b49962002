use kiln_types::{MARKDOWN_MAX_BYTES, Snippet};
use leptos::{form::ActionForm, prelude::*};

use crate::{
    server_fns::ExtractSnippets,
    session::{CsrfField, ErrorNotice},
};

#[component]
pub fn SnippetsPage() -> impl IntoView {
    let extract = ServerAction::<ExtractSnippets>::new();
    let result = move || {
        extract.value().get().map(|result| match result {
            Ok(snippets) => view! { <SnippetList snippets/> }.into_any(),
            Err(error) => view! { <ErrorNotice error/> }.into_any(),
        })
    };
    view! {
        <h1>"Extract code snippets"</h1>
        <section class="card">
            <ActionForm action=extract>
                <CsrfField/>
                <label for="markdown">"Markdown"</label>
                <textarea
                    id="markdown"
                    name="markdown"
                    rows="12"
                    maxlength=MARKDOWN_MAX_BYTES
                    placeholder="Paste Markdown with fenced code blocks"
                ></textarea>
                <button type="submit" disabled=move || extract.pending().get()>
                    "Extract snippets"
                </button>
            </ActionForm>
        </section>
        <section aria-live="polite">{result}</section>
    }
}

#[component]
fn SnippetList(snippets: Vec<Snippet>) -> impl IntoView {
    let count = snippets.len();
    view! {
        <h2>{format!("{count} snippet{}", if count == 1 { "" } else { "s" })}</h2>
        <ol class="snippets" aria-label="Snippets">
            {snippets
                .into_iter()
                .map(|s| {
                    let language = s.language.unwrap_or_else(|| "text".into());
                    view! {
                        <li class="snippet">
                            <p class="snippet-meta">
                                <span class="snippet-language">{language}</span>
                                {format!(" · lines {}–{}", s.start_line, s.end_line)}
                            </p>
                            <pre><code>{s.code}</code></pre>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
