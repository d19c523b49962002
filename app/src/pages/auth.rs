//! Log in and register.

use kiln_types::{EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    server_fns::{Login, Register, safe_next},
    session::ErrorNotice,
};

/// Where the visitor was going before being asked to log in.
fn next_target() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| safe_next(&query.read().get("next").unwrap_or_default()).to_owned())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = next_target();
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <ErrorNotice error/> })
    };
    let register_link = move || format!("/register?next={}", urlencode(&next.get()));
    view! {
        <h1>"Log in"</h1>
        <section class="card narrow">
            <ActionForm action=login>
                <input type="hidden" name="next" value=next/>
                <label for="login-email">"Email"</label>
                <input id="login-email" name="email" type="email" required autocomplete="username" maxlength=EMAIL_MAX_CHARS/>
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password" required autocomplete="current-password" maxlength=PASSWORD_MAX_CHARS/>
                <button type="submit" disabled=move || login.pending().get()>"Log in"</button>
            </ActionForm>
            {error}
            <p>"New here? " <a href=register_link>"Create an account"</a></p>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let next = next_target();
    let error = move || {
        register
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <ErrorNotice error/> })
    };
    let login_link = move || format!("/login?next={}", urlencode(&next.get()));
    view! {
        <h1>"Create an account"</h1>
        <section class="card narrow">
            <ActionForm action=register>
                <input type="hidden" name="next" value=next/>
                <label for="register-email">"Email"</label>
                <input id="register-email" name="email" type="email" required autocomplete="username" maxlength=EMAIL_MAX_CHARS/>
                <label for="register-password">"Password"</label>
                <input
                    id="register-password"
                    name="password"
                    type="password"
                    required
                    autocomplete="new-password"
                    minlength=PASSWORD_MIN_CHARS
                    maxlength=PASSWORD_MAX_CHARS
                    aria-describedby="password-rule"
                />
                <p id="password-rule" class="hint">{format!("At least {PASSWORD_MIN_CHARS} characters.")}</p>
                <button type="submit" disabled=move || register.pending().get()>"Create account"</button>
            </ActionForm>
            {error}
            <p>"Already have an account? " <a href=login_link>"Log in"</a></p>
        </section>
    }
}

/// Percent-encodes a query value.
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
