//! Kiln's user interface: server-rendered by the axum server, hydrated in the browser.

#[cfg(feature = "hydrate")]
mod chat_socket;
mod chat_state;
mod csrf_client;
mod pages;
pub mod server_fns;

/// Pages a visitor without a session may open; every other page needs one (the
/// server's route table reads this next to the routes below).
pub const PUBLIC_PAGES: &[&str] = &["/login", "/register"];
mod session;
#[cfg(feature = "hydrate")]
mod upload;

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
};

use crate::{
    pages::{
        AccountPage, AdminPluginsPage, ChatPage, FilePage, FilesPage, LoginPage, ProjectPage,
        ProjectsPage, RegisterPage, SearchPage, SnippetsPage, ThreadPage,
    },
    server_fns::Logout,
    session::{CsrfField, provide_session},
};

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
            <Layout/>
        </Router>
    }
}

/// Header and pages. Every page renders its data on the server before sending (async
/// mode), so reading and submitting forms work without JavaScript too.
#[component]
fn Layout() -> impl IntoView {
    provide_session();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Kiln"</A>
            <Navigation/>
        </header>
        <main>
            <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                <Route path=StaticSegment("") view=ProjectsPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id")) view=ProjectPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id"), StaticSegment("files")) view=FilesPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id"), StaticSegment("search")) view=SearchPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id"), StaticSegment("chat")) view=ChatPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("threads"), ParamSegment("id")) view=ThreadPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("files"), ParamSegment("id")) view=FilePage ssr=SsrMode::Async/>
                <Route path=StaticSegment("snippets") view=SnippetsPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("account") view=AccountPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("admin"), StaticSegment("plugins")) view=AdminPluginsPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("register") view=RegisterPage ssr=SsrMode::Async/>
            </Routes>
        </main>
    }
}

#[component]
fn Navigation() -> impl IntoView {
    let session = session::use_session();
    let logout = ServerAction::<Logout>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match session.await.ok().flatten() {
                    Some(view) => view! {
                        <nav aria-label="Main">
                            <A href="/">"Projects"</A>
                            <A href="/snippets">"Snippets"</A>
                            <a href="/api/docs" rel="external">"API"</a>
                            <A href="/account">"Account"</A>
                            {view.user.is_admin.then(|| view! { <A href="/admin/plugins">"Plugins"</A> })}
                        </nav>
                        <div class="who">
                            <span class="user-email">{view.user.email}</span>
                            <ActionForm action=logout attr:class="inline">
                                <CsrfField/>
                                <button type="submit" class="link">"Log out"</button>
                            </ActionForm>
                        </div>
                    }
                    .into_any(),
                    None => view! {
                        <nav aria-label="Main">
                            <A href="/login">"Log in"</A>
                            <A href="/register">"Register"</A>
                        </nav>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
