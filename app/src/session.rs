//! The visitor's session as the UI sees it: who is logged in, the CSRF token forms
//! echo, and the timer that keeps the access cookie fresh.

use std::time::Duration;

use kiln_types::{ApiError, CSRF_FORM_FIELD, ErrorKind, SessionView};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::server_fns::{current_session, refresh_session};

pub type SessionResource = Resource<Result<Option<SessionView>, ApiError>, crate::json::Json>;

/// Reads the session again on every navigation (logging in and out navigate), and
/// renews the access cookie while a user is logged in.
pub fn provide_session() -> SessionResource {
    let location = use_location();
    let session = crate::json::resource(move || location.pathname.get(), |_| current_session());
    provide_context(session);
    // Keyed on the account, not the resource: navigating re-reads the session, and a
    // timer restarted on every click would never fire for a busy user.
    let schedule = Memo::new(move |_| {
        let view = session.get().and_then(Result::ok).flatten()?;
        Some((view.user.id, view.refresh_after_secs))
    });
    Effect::new(move |previous: Option<Option<IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        let (_, every) = schedule.get()?;
        set_interval_with_handle(
            || {
                leptos::task::spawn_local(async {
                    if let Err(error) = refresh_session().await {
                        leptos::logging::warn!("session refresh failed: {}", error.detail);
                    }
                })
            },
            Duration::from_secs(every),
        )
        .ok()
    });
    session
}

pub fn use_session() -> SessionResource {
    expect_context::<SessionResource>()
}

/// The hidden CSRF field a form needs when it is posted without JavaScript.
///
/// A reactive attribute, not a `Suspense`: a suspense boundary takes a hydration id
/// when it is created, and this field is created when the session arrives — at a
/// moment that varies with the database on the server, so a page's own boundaries
/// and resources got different ids from one load to the next and hydration failed
/// (the project page, 6 loads in 16). An attribute that differs is simply set.
#[component]
pub fn CsrfField() -> impl IntoView {
    let session = use_session();
    let token = move || {
        session
            .get()
            .and_then(Result::ok)
            .flatten()
            .map(|s| s.csrf_token)
            .unwrap_or_default()
    };
    view! { <input type="hidden" name=CSRF_FORM_FIELD value=token/> }
}

/// An error as the user should read it, with a way forward when they are logged out.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let login = (error.kind == ErrorKind::Unauthorized)
        .then(|| view! { " " <a href="/login">"Log in"</a> });
    view! { <p class="error" role="alert">{error.detail}{login}</p> }
}
