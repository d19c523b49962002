//! Kiln's user interface: server-rendered by the axum server, hydrated in the browser.

mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
};

use crate::pages::{ProjectsPage, SnippetsPage};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the moment the page became interactive.
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/kiln.css"/>
        <Title text="Kiln"/>
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"Kiln"</A>
                <nav aria-label="Main">
                    <A href="/">"Projects"</A>
                    <A href="/snippets">"Snippets"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    // Async: the HTML arrives with the data in it, so reading needs no JavaScript.
                    <Route path=StaticSegment("") view=ProjectsPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("snippets") view=SnippetsPage/>
                </Routes>
            </main>
        </Router>
    }
}
