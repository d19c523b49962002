//! `/api/admin/*`: installation-wide management, for administrators only. The
//! [`Administrator`] extractor checks the role first, before anything else of the
//! request is read.

use axum::{
    Json,
    extract::{Multipart, Path, State},
    http::StatusCode,
};
use kiln_core::Services;
use kiln_types::{ApiError, ErrorKind, PluginPatch, PluginSummary};

use super::{
    ApiErrorResponse, AppState, files::multipart_error, json::ApiJson, session::Administrator,
};

/// Every plugin — bundled or installed, active, disabled, quarantined or rejected
/// (with the reason) — with its counters.
#[utoipa::path(get, path = "/api/admin/plugins", tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = Vec<PluginSummary>),
        (status = 401, description = "Not logged in", body = ApiError),
        (status = 403, description = "Not an administrator", body = ApiError),
    ))]
pub async fn plugins(
    State(services): State<Services>,
    _admin: Administrator,
) -> Result<Json<Vec<PluginSummary>>, ApiErrorResponse> {
    Ok(Json(services.plugins.list()))
}

/// Installs a plugin: a multipart form with a `manifest` part (`kiln-plugin.toml`)
/// and a `wasm` part (the component). Both are validated, and the component loaded,
/// before anything is written; the plugin is then enabled.
#[utoipa::path(post, path = "/api/admin/plugins", tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    request_body(content_type = "multipart/form-data", description = "`manifest`: kiln-plugin.toml; `wasm`: the component"),
    responses(
        (status = 201, body = PluginSummary),
        (status = 400, description = "Not a multipart form with both parts", body = ApiError),
        (status = 403, description = "Not an administrator", body = ApiError),
        (status = 409, description = "A plugin with this id exists", body = ApiError),
        (status = 413, description = "Upload too large", body = ApiError),
        (status = 422, description = "Invalid manifest, hash mismatch, or not a working plugin of a supported API", body = ApiError),
    ))]
pub async fn install(
    State(state): State<AppState>,
    _admin: Administrator,
    mut form: Multipart,
) -> Result<(StatusCode, Json<PluginSummary>), ApiErrorResponse> {
    let bad = |detail: String| ApiErrorResponse::from(ApiError::new(ErrorKind::BadRequest, detail));
    let (mut manifest, mut wasm) = (None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(&e, state.settings.upload_body_limit))?
    {
        match field.name() {
            Some("manifest") => {
                manifest = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| multipart_error(&e, state.settings.upload_body_limit))?,
                );
            }
            Some("wasm") => {
                wasm = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|e| multipart_error(&e, state.settings.upload_body_limit))?,
                )
            }
            other => {
                return Err(bad(format!(
                    "unexpected form part {other:?}; send `manifest` and `wasm`"
                )));
            }
        }
    }
    let (Some(manifest), Some(wasm)) = (manifest, wasm) else {
        return Err(bad("send both a `manifest` and a `wasm` part".into()));
    };
    let summary = state
        .services
        .plugins
        .install(&manifest, wasm.to_vec())
        .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

/// One plugin.
#[utoipa::path(get, path = "/api/admin/plugins/{plugin_id}", tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    params(("plugin_id" = String, Path, description = "The plugin's id")),
    responses(
        (status = 200, body = PluginSummary),
        (status = 403, description = "Not an administrator", body = ApiError),
        (status = 404, description = "No such plugin", body = ApiError),
    ))]
pub async fn plugin(
    State(services): State<Services>,
    _admin: Administrator,
    Path(plugin_id): Path<String>,
) -> Result<Json<PluginSummary>, ApiErrorResponse> {
    Ok(Json(services.plugins.get(&plugin_id)?))
}

/// Enables or disables a plugin, or changes its priority; kept across restarts.
#[utoipa::path(patch, path = "/api/admin/plugins/{plugin_id}", tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    params(("plugin_id" = String, Path, description = "The plugin's id")),
    request_body = PluginPatch,
    responses(
        (status = 200, body = PluginSummary),
        (status = 403, description = "Not an administrator", body = ApiError),
        (status = 404, description = "No such loaded plugin", body = ApiError),
        (status = 422, description = "Unknown field or priority out of range", body = ApiError),
    ))]
pub async fn update(
    State(services): State<Services>,
    _admin: Administrator,
    Path(plugin_id): Path<String>,
    ApiJson(patch): ApiJson<PluginPatch>,
) -> Result<Json<PluginSummary>, ApiErrorResponse> {
    Ok(Json(services.plugins.update(&plugin_id, patch).await?))
}

/// Removes an installed plugin; bundled ones can only be disabled (409).
#[utoipa::path(delete, path = "/api/admin/plugins/{plugin_id}", tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    params(("plugin_id" = String, Path, description = "The plugin's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an administrator", body = ApiError),
        (status = 404, description = "No such plugin", body = ApiError),
        (status = 409, description = "A bundled plugin", body = ApiError),
    ))]
pub async fn delete(
    State(services): State<Services>,
    _admin: Administrator,
    Path(plugin_id): Path<String>,
) -> Result<StatusCode, ApiErrorResponse> {
    services.plugins.delete(&plugin_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rediscovers the bundled and installed plugin directories without a restart.
#[utoipa::path(post, path = "/api/admin/plugins/reload", tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = Vec<PluginSummary>),
        (status = 403, description = "Not an administrator", body = ApiError),
    ))]
pub async fn reload(
    State(services): State<Services>,
    _admin: Administrator,
) -> Result<Json<Vec<PluginSummary>>, ApiErrorResponse> {
    Ok(Json(services.plugins.reload().await?))
}
