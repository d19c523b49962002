//! Browser uploads to the REST API as multipart bodies, with the session's CSRF header
//! (which server functions get from [`crate::csrf_client`]).

use kiln_types::{ApiError, PluginSummary, UploadReport, UploadedFile};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData, HtmlFormElement, Request, RequestInit, Response};

/// Posts `body` to `url`; the answer's text, or the error's detail.
async fn post(url: &str, body: &FormData) -> Result<String, String> {
    let failed = |error: JsValue| format!("the upload failed: {error:?}");
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(body);
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
        Ok(text)
    } else {
        Err(crate::json::from_text::<ApiError>(&text)
            .map(|error| error.detail)
            .unwrap_or_else(|_| format!("the upload failed ({})", response.status())))
    }
}

/// Posts the plugin install `form`; the installed plugin's id.
pub async fn post_form(url: &str, form: &HtmlFormElement) -> Result<String, String> {
    let body = FormData::new_with_form(form).map_err(|e| format!("{e:?}"))?;
    let text = post(url, &body).await?;
    crate::json::from_text::<PluginSummary>(&text)
        .map(|plugin| plugin.id)
        .map_err(|e| format!("unexpected answer: {e}"))
}

/// Uploads one file as `path` into the project; what the server did with it.
pub async fn upload_file(
    project_id: &str,
    file: &File,
    path: &str,
) -> Result<UploadedFile, String> {
    let body = FormData::new().map_err(|e| format!("{e:?}"))?;
    body.append_with_blob_and_filename("files", file, path)
        .map_err(|e| format!("{e:?}"))?;
    let text = post(&format!("/api/projects/{project_id}/files"), &body).await?;
    let report: UploadReport =
        crate::json::from_text(&text).map_err(|e| format!("unexpected answer: {e}"))?;
    report
        .files
        .into_iter()
        .next()
        .ok_or_else(|| "the server stored nothing".to_owned())
}
