//! The plugin administration page: every plugin with its status and counters;
//! enable, disable, reload the plugins directory, install an uploaded plugin.

use kiln_types::PluginSummary;
use leptos::{form::ActionForm, prelude::*};

use crate::{
    server_fns::{ReloadPlugins, SetPluginEnabled, admin_plugins},
    session::{CsrfField, ErrorNotice},
};

#[component]
pub fn AdminPluginsPage() -> impl IntoView {
    let toggle = ServerAction::<SetPluginEnabled>::new();
    let reload = ServerAction::<ReloadPlugins>::new();
    let installed = RwSignal::new(0u32);
    let plugins = crate::json::resource(
        move || {
            (
                toggle.version().get(),
                reload.version().get(),
                installed.get(),
            )
        },
        |_| admin_plugins(),
    );
    view! {
        <h1>"Plugins"</h1>
        <p>
            "Sandboxed WebAssembly plugins: language parsers, the snippet extractor and the LLM policy. "
            "A failing plugin is quarantined for a while and Kiln uses its built-in behaviour."
        </p>
        <ActionForm action=reload attr:class="inline">
            <CsrfField/>
            <button type="submit" disabled=move || reload.pending().get()>"Reload plugins directory"</button>
        </ActionForm>
        {move || toggle.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error/> })}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match plugins.await {
                    Ok(list) => view! { <PluginTable list toggle/> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
        <InstallForm installed/>
    }
}

#[component]
fn PluginTable(list: Vec<PluginSummary>, toggle: ServerAction<SetPluginEnabled>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|plugin| {
            let failures: u64 = plugin.failures.values().sum();
            let claims = plugin.extensions.join(", ");
            let id = plugin.id.clone();
            let action = (plugin.status != "rejected").then(move || {
                let (label, enable) = if plugin.enabled { ("Disable", "false") } else { ("Enable", "true") };
                view! {
                    <ActionForm action=toggle attr:class="inline">
                        <CsrfField/>
                        <input type="hidden" name="id" value=id.clone()/>
                        <input type="hidden" name="enabled" value=enable/>
                        <button type="submit" aria-label=format!("{label} {id}")>{label}</button>
                    </ActionForm>
                }
            });
            view! {
                <tr data-plugin=plugin.id.clone()>
                    <th scope="row">{plugin.id.clone()} " " <small>{plugin.version}</small></th>
                    <td>{plugin.kind}</td>
                    <td>{plugin.source}</td>
                    <td class=format!("status {}", plugin.status)>
                        {plugin.status.clone()}
                        {plugin.error.map(|error| view! { <br/><small class="error">{error}</small> })}
                    </td>
                    <td>{claims}</td>
                    <td>{plugin.calls}</td>
                    <td>{failures}</td>
                    <td>{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="plugins">
            <caption>"Installed plugins"</caption>
            <thead>
                <tr>
                    <th scope="col">"Plugin"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Source"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Files"</th>
                    <th scope="col">"Calls"</th>
                    <th scope="col">"Failures"</th>
                    <th scope="col">"Action"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Uploads `kiln-plugin.toml` + `.wasm` to `POST /api/admin/plugins` (the REST route,
/// so there is one install path). Needs JavaScript: a file upload is a multipart body.
#[component]
fn InstallForm(installed: RwSignal<u32>) -> impl IntoView {
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        // Only the browser uploads; the server renders the form.
        #[cfg(not(feature = "hydrate"))]
        let _ = installed;
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(form) = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            busy.set(true);
            leptos::task::spawn_local(async move {
                let result = crate::upload::post_form("/api/admin/plugins", &form).await;
                if result.is_ok() {
                    form.reset();
                    installed.update(|n| *n += 1);
                }
                outcome.set(Some(result));
                busy.set(false);
            });
        }
    };
    view! {
        <section class="card" aria-labelledby="install">
            <h2 id="install">"Install a plugin"</h2>
            <form on:submit=on_submit enctype="multipart/form-data">
                <label for="plugin-manifest">"Manifest (kiln-plugin.toml)"</label>
                <input id="plugin-manifest" name="manifest" type="file" accept=".toml" required/>
                <label for="plugin-wasm">"Component (.wasm)"</label>
                <input id="plugin-wasm" name="wasm" type="file" accept=".wasm" required/>
                <button type="submit" disabled=move || busy.get()>"Install"</button>
            </form>
            {move || outcome.get().map(|outcome| match outcome {
                Ok(id) => view! { <p class="success" role="status">"Installed " {id} "."</p> }.into_any(),
                Err(detail) => view! { <p class="error" role="alert">{detail}</p> }.into_any(),
            })}
        </section>
    }
}
