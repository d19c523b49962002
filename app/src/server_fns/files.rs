//! Server functions of the code-document pages: thin adapters over `FileService`.
//! (Uploads go to the REST route, which streams multipart bodies.)

use kiln_types::{
    ApiError, FileDetail, FileDiff, FileSummary, FileVersion, IndexStatus, SearchResults,
};
use leptos::prelude::*;

use super::CsrfClient;
#[cfg(feature = "ssr")]
use super::ssr;

/// The project's files, by path.
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn project_files(project_id: String) -> Result<Vec<FileSummary>, ApiError> {
    let scope = ssr::project_scope(&project_id).await?;
    ssr::services()?
        .files
        .list(&scope, false)
        .await
        .map_err(ssr::failed)
}

#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn index_progress(project_id: String) -> Result<IndexStatus, ApiError> {
    let scope = ssr::project_scope(&project_id).await?;
    ssr::services()?
        .files
        .index_status(&scope)
        .await
        .map_err(ssr::failed)
}

#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn get_file(id: String) -> Result<FileDetail, ApiError> {
    let scope = ssr::file_scope(&id).await?;
    ssr::services()?
        .files
        .get(&scope)
        .await
        .map_err(ssr::failed)
}

/// Saves `content` made on `version`; a stale version fails with `conflict` and the
/// current version in the error.
#[server(client = CsrfClient)]
pub async fn save_file(id: String, version: u64, content: String) -> Result<FileSummary, ApiError> {
    let scope = ssr::file_scope(&id).await?;
    let edit = kiln_types::FileEdit {
        version,
        content: Some(content),
        path: None,
    };
    ssr::services()?
        .files
        .edit(&scope, edit)
        .await
        .map_err(ssr::failed)
}

#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn file_versions(id: String) -> Result<Vec<FileVersion>, ApiError> {
    let scope = ssr::file_scope(&id).await?;
    ssr::services()?
        .files
        .versions(&scope)
        .await
        .map_err(ssr::failed)
}

#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn diff_versions(id: String, from: u64) -> Result<FileDiff, ApiError> {
    let scope = ssr::file_scope(&id).await?;
    ssr::services()?
        .files
        .diff(&scope, from, None)
        .await
        .map_err(ssr::failed)
}

/// Brings back `version` as a new version; without one, undeletes the file.
#[server(client = CsrfClient)]
pub async fn restore_file(id: String, version: Option<u64>) -> Result<FileSummary, ApiError> {
    let scope = ssr::file_scope(&id).await?;
    ssr::services()?
        .files
        .restore(&scope, version)
        .await
        .map_err(ssr::failed)
}

#[server(client = CsrfClient)]
pub async fn delete_file(id: String) -> Result<(), ApiError> {
    let scope = ssr::file_scope(&id).await?;
    ssr::services()?
        .files
        .delete(&scope)
        .await
        .map_err(ssr::failed)
}

#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn search_code(
    project_id: String,
    q: String,
    language: Option<String>,
    path: Option<String>,
) -> Result<SearchResults, ApiError> {
    let scope = ssr::project_scope(&project_id).await?;
    let query = kiln_types::SearchQuery {
        q,
        language,
        path,
        limit: None,
    };
    ssr::services()?
        .files
        .search(&scope, &query)
        .await
        .map_err(ssr::failed)
}

/// One version of a file, with its content (a citation opens the lines it quoted).
#[server(input = leptos::server_fn::codec::GetUrl, client = CsrfClient)]
pub async fn quoted_version(id: String, version: u64) -> Result<FileVersion, ApiError> {
    let scope = ssr::file_scope(&id).await?;
    ssr::services()?
        .files
        .version(&scope, version)
        .await
        .map_err(ssr::failed)
}
