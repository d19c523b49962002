//! The browser entry point: hydrates the server-rendered Kiln app.

use wasm_bindgen::{JsCast, closure::Closure};

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let links_left_to_the_browser = native_links_while_hydrating();
    // Lazily: the open page's own wasm chunk is fetched before it hydrates (every page
    // is a lazy route, see `kiln_app::App`). `data-hydrated` marks the moment the whole
    // page is interactive, which only the end of this future knows.
    wasm_bindgen_futures::spawn_local(async move {
        let body = leptos::tachys::dom::body();
        leptos::mount::hydrate_from_async(body.clone(), kiln_app::App)
            .await
            .forget();
        links_left_to_the_browser();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}

/// Until the page has hydrated, a click on a link is a plain link's: the browser loads
/// the page. The router starts intercepting clicks as soon as it exists, but a
/// navigation it starts while the page's own chunk is still loading was lost (1 click
/// in 4 in a test that clicked right after loading). Returns the function that hands
/// links back to the router.
fn native_links_while_hydrating() -> impl FnOnce() {
    let window = web_sys::window();
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
        let on_link = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest("a[href]").ok().flatten())
            .is_some();
        if on_link {
            // Not `prevent_default`: the browser still follows the link.
            event.stop_immediate_propagation();
        }
    });
    let callback = || {
        listener
            .as_ref()
            .unchecked_ref::<js_sys::Function>()
            .clone()
    };
    if let Some(window) = &window {
        // Capturing on the window: before any listener of the page sees the click.
        let _ = window.add_event_listener_with_callback_and_bool("click", &callback(), true);
    }
    let callback = callback();
    move || {
        if let Some(window) = &window {
            let _ = window.remove_event_listener_with_callback_and_bool("click", &callback, true);
        }
        drop(listener);
    }
}
