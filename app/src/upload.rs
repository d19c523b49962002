//! Browser uploads to the REST API: a form's files as a multipart body, with the
//! session's CSRF header (which server functions get from [`crate::csrf_client`]).

use kiln_types::{ApiError, PluginSummary};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{FormData, HtmlFormElement, Request, RequestInit, Response};

/// Posts `form` to `url`; the installed plugin's id, or the error's detail.
pub async fn post_form(url: &str, form: &HtmlFormElement) -> Result<String, String> {
    let failed = |error: JsValue| format!("the upload failed: {error:?}");
    let body = FormData::new_with_form(form).map_err(failed)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&body);
    let request = Request::new_with_str_and_init(url, &init).map_err(failed)?;
    if let Some(token) = crate::csrf_client::csrf_cookie() {
        request
            .headers()
            .set(kiln_types::CSRF_HEADER, &token)
            .map_err(failed)?;
    }
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    let text = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        serde_json::from_str::<PluginSummary>(&text)
            .map(|plugin| plugin.id)
            .map_err(|e| format!("unexpected answer: {e}"))
    } else {
        Err(serde_json::from_str::<ApiError>(&text)
            .map(|error| error.detail)
            .unwrap_or_else(|_| format!("the upload failed ({})", response.status())))
    }
}
