//! The visitor's session as the UI sees it: who is logged in, the CSRF token forms
//! echo, and the timer that keeps the access cookie fresh.

use std::time::Duration;

use kiln_types::{ApiError, CSRF_FORM_FIELD, ErrorKind, SessionView};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::server_fns::{current_session, refresh_session};

pub type SessionResource = Resource<Result<Option<SessionView>, ApiError>>;

/// Reads the session again on every navigation (logging in and out navigate), and
/// renews the access cookie while a user is logged in.
pub fn provide_session() -> SessionResource {
    let location = use_location();
    let session = Resource::new(move || location.pathname.get(), |_| current_session());
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
#[component]
pub fn CsrfField() -> impl IntoView {
    let session = use_session();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let token = session.await.ok().flatten().map(|s| s.csrf_token).unwrap_or_default();
                view! { <input type="hidden" name=CSRF_FORM_FIELD value=token/> }
            })}
        </Suspense>
    }
}

/// An error as the user should read it, with a way forward when they are logged out.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let login = (error.kind == ErrorKind::Unauthorized)
        .then(|| view! { " " <a href="/login">"Log in"</a> });
    view! { <p class="error" role="alert">{error.detail}{login}</p> }
}
