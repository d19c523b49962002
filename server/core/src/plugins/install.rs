//! Installing and removing plugins at run time (administrators only; the HTTP layer
//! checks that).

use kiln_plugin_host::{Manifest, PluginError};
use kiln_types::{ApiError, ErrorKind, PluginSummary};

use super::{
    PluginRegistry,
    catalog::{Entry, Loaded, Source},
};
use crate::{ServiceError, error::Conflict};

impl PluginRegistry {
    /// Installs an uploaded plugin. The manifest, the component's hash and the
    /// component itself (compiled, linked, and for parsers asked what they parse) are
    /// all checked before anything is written; the files then appear in the plugins
    /// directory at once (written aside, then renamed), and the plugin is enabled
    /// (unless an administrator disabled a plugin of this id before).
    pub async fn install(
        &self,
        manifest_text: &str,
        wasm: Vec<u8>,
    ) -> Result<PluginSummary, ServiceError> {
        let settings = self.inner.settings.clone();
        let Some(installed_dir) = settings.installed_dir.clone() else {
            return Err(ServiceError::Unavailable(
                "no plugins directory is configured (KILN_PLUGINS_DIR)".into(),
            ));
        };
        let manifest = Manifest::parse(manifest_text).map_err(refused)?;
        let manifest_text = manifest_text.to_owned();
        manifest.verify(&wasm).map_err(refused)?;
        let _change = self.inner.changes.lock().await;
        let id = manifest.id.clone();
        let catalog = self.catalog();
        let taken = catalog.find(&id).is_some()
            || catalog
                .rejected
                .iter()
                .any(|r| r.manifest.as_ref().is_some_and(|m| m.id == id));
        if taken {
            return Err(Conflict::AlreadyExists(format!(
                "a plugin with id {id} exists; delete it first"
            ))
            .into());
        }
        let engine = self.inner.engine.clone();
        let (manifest, loaded, dir) = tokio::task::spawn_blocking(move || {
            let loaded = Loaded::load(&engine, &manifest, &wasm, &settings).map_err(refused)?;
            let dir = write_plugin(&installed_dir, &manifest, &manifest_text, &wasm)?;
            Ok::<_, ServiceError>((manifest, loaded, dir))
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("plugin install failed: {e}")))??;
        let stored = crate::store::plugin_settings::all(&self.inner.db).await?;
        let (enabled, priority) = stored.get(&id).copied().unwrap_or((true, 0));
        let mut catalog = (*self.catalog()).clone();
        catalog.entries.push(Entry {
            manifest,
            source: Source::Installed,
            dir,
            loaded,
            enabled,
            priority,
        });
        self.replace(catalog);
        tracing::info!(plugin = id, "plugin installed");
        self.get(&id)
    }

    /// Removes an installed plugin (files and settings). Bundled plugins can only be
    /// disabled.
    pub async fn delete(&self, id: &str) -> Result<(), ServiceError> {
        let _change = self.inner.changes.lock().await;
        let mut catalog = (*self.catalog()).clone();
        let loaded = catalog.entries.iter().position(|e| e.manifest.id == id);
        let rejected = catalog
            .rejected
            .iter()
            .position(|r| r.manifest.as_ref().is_some_and(|m| m.id == id));
        let (dir, source) = match (loaded, rejected) {
            (Some(at), _) => {
                let entry = catalog.entries.remove(at);
                (entry.dir, entry.source)
            }
            (None, Some(at)) => {
                let rejected = catalog.rejected.remove(at);
                (rejected.dir, rejected.source)
            }
            (None, None) => {
                return Err(ServiceError::not_found("plugin", format!("no plugin {id}")));
            }
        };
        if source == Source::Bundled {
            return Err(Conflict::Protected(
                "bundled plugins cannot be deleted; disable them instead".into(),
            )
            .into());
        }
        crate::store::plugin_settings::delete(&self.inner.db, id).await?;
        match tokio::fs::remove_dir_all(&dir).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ServiceError::Internal(format!(
                    "cannot remove {}: {e}",
                    dir.display()
                )));
            }
            _ => {}
        }
        self.replace(catalog);
        tracing::info!(plugin = id, "plugin deleted");
        Ok(())
    }
}

/// An upload that is not a working plugin: the administrator sees why. A failure of
/// Kiln's own engine is not the upload's fault.
fn refused(error: PluginError) -> ServiceError {
    match error {
        PluginError::Engine(_) => ServiceError::Plugin(error),
        error => ApiError::new(ErrorKind::ValidationError, error.to_string()).into(),
    }
}

/// Writes `dir/<id>/{kiln-plugin.toml, <wasm>}` via a temporary sibling directory and
/// one rename, so a crash never leaves a half-written plugin behind.
fn write_plugin(
    dir: &std::path::Path,
    manifest: &Manifest,
    manifest_text: &str,
    wasm: &[u8],
) -> Result<std::path::PathBuf, ServiceError> {
    let io = |e: std::io::Error| ServiceError::Internal(format!("cannot write plugin: {e}"));
    std::fs::create_dir_all(dir).map_err(io)?;
    let target = dir.join(&manifest.id);
    if target.exists() {
        return Err(Conflict::AlreadyExists(format!("{} already exists", target.display())).into());
    }
    let staging = dir.join(format!(".installing-{}", manifest.id));
    let _ = std::fs::remove_dir_all(&staging);
    let written = std::fs::create_dir(&staging)
        .and_then(|()| std::fs::write(staging.join(&manifest.wasm), wasm))
        .and_then(|()| std::fs::write(staging.join(kiln_plugin_host::MANIFEST_FILE), manifest_text))
        .and_then(|()| std::fs::rename(&staging, &target));
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io(error));
    }
    Ok(target)
}
