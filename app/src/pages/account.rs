//! The account page: who you are, change your password, log out.

use kiln_types::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use leptos::{form::ActionForm, prelude::*};

use crate::{
    server_fns::ChangePassword,
    session::{CsrfField, ErrorNotice, use_session},
};

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = use_session();
    let change = ServerAction::<ChangePassword>::new();
    let outcome = move || {
        change.value().get().map(|result| match result {
            Ok(()) => view! {
                <p class="success" role="status">"Password changed. Your other sessions have been logged out."</p>
            }
            .into_any(),
            Err(error) => view! { <ErrorNotice error/> }.into_any(),
        })
    };
    view! {
        <h1>"Account"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(view)) => view! {
                        <section class="card" aria-labelledby="who">
                            <h2 id="who">"Signed in"</h2>
                            <p>"Email: " <strong class="account-email">{view.user.email}</strong></p>
                            {view.user.is_admin.then(|| view! { <p>"Administrator of this installation."</p> })}
                        </section>
                    }
                    .into_any(),
                    Ok(None) => view! { <p>"You are not logged in. " <a href="/login">"Log in"</a></p> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card" aria-labelledby="change-password">
            <h2 id="change-password">"Change password"</h2>
            <ActionForm action=change>
                <CsrfField/>
                <label for="current-password">"Current password"</label>
                <input id="current-password" name="current_password" type="password" required autocomplete="current-password" maxlength=PASSWORD_MAX_CHARS/>
                <label for="new-password">"New password"</label>
                <input
                    id="new-password"
                    name="new_password"
                    type="password"
                    required
                    autocomplete="new-password"
                    minlength=PASSWORD_MIN_CHARS
                    maxlength=PASSWORD_MAX_CHARS
                />
                <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
            </ActionForm>
            {outcome}
        </section>
    }
}
