//! Kiln's user interface: server-rendered by the axum server, hydrated in the browser.

#[cfg(feature = "hydrate")]
mod chat_socket;
mod chat_state;
mod csrf_client;
mod json;
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
    Lazy, LazyRoute, ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
    lazy_route,
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
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
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
                <Route path=StaticSegment("") view={Lazy::<ProjectsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id")) view={Lazy::<ProjectRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id"), StaticSegment("files")) view={Lazy::<FilesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id"), StaticSegment("search")) view={Lazy::<SearchRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("projects"), ParamSegment("id"), StaticSegment("chat")) view={Lazy::<ChatRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("threads"), ParamSegment("id")) view={Lazy::<ThreadRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("files"), ParamSegment("id")) view={Lazy::<FileRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("snippets") view={Lazy::<SnippetsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("admin"), StaticSegment("plugins")) view={Lazy::<AdminPluginsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async/>
            </Routes>
        </main>
    }
}

/// Every page is a lazy route: its code is a wasm chunk of its own (`cargo leptos
/// build --split`), fetched when the page is first opened (and preloaded by the server
/// for the page it renders), so the first load carries only the app's frame.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    ProjectsRoute => ProjectsPage,
    ProjectRoute => ProjectPage,
    FilesRoute => FilesPage,
    SearchRoute => SearchPage,
    ChatRoute => ChatPage,
    ThreadRoute => ThreadPage,
    FileRoute => FilePage,
    SnippetsRoute => SnippetsPage,
    AccountRoute => AccountPage,
    AdminPluginsRoute => AdminPluginsPage,
    LoginRoute => LoginPage,
    RegisterRoute => RegisterPage,
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
