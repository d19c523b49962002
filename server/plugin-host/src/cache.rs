//! Compiled components on disk. Compiling a component takes hundreds of milliseconds;
//! loading a compiled one takes about one. Entries are keyed by the wasm's SHA-256 and
//! the engine's compatibility hash (wasmtime version and settings), so a new Kiln
//! build or a changed plugin never loads a stale artifact.
//!
//! Trust: a compiled artifact is native code. The cache directory belongs to Kiln (it
//! lives in Kiln's data directory); anything unreadable or incompatible in it is
//! discarded and recompiled, but a directory others can write to must not be used.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    io::Write,
    path::{Path, PathBuf},
};

use wasmtime::{Engine, component::Component};

use crate::PluginError;

/// Where a component came from, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Compiled,
    Cache,
}

pub(crate) fn compile(
    engine: &Engine,
    cache_dir: Option<&Path>,
    plugin: &str,
    wasm: &[u8],
) -> Result<(Component, Origin), PluginError> {
    let incompatible = |e: wasmtime::Error| PluginError::IncompatibleApi {
        plugin: plugin.to_owned(),
        reason: format!("not a valid component: {e:#}"),
    };
    let Some(dir) = cache_dir else {
        return Ok((
            Component::new(engine, wasm).map_err(incompatible)?,
            Origin::Compiled,
        ));
    };
    let path = entry(engine, dir, wasm);
    if let Ok(bytes) = std::fs::read(&path) {
        match deserialize(engine, &bytes) {
            Ok(component) => return Ok((component, Origin::Cache)),
            Err(error) => {
                tracing::warn!(plugin, path = %path.display(), %error, "discarding an unusable compiled plugin");
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let component = Component::new(engine, wasm).map_err(incompatible)?;
    if let Err(error) = store(&path, &component) {
        // A cache that cannot be written only costs the next start its compile time.
        tracing::warn!(plugin, path = %path.display(), %error, "cannot cache the compiled plugin");
    }
    Ok((component, Origin::Compiled))
}

fn entry(engine: &Engine, dir: &Path, wasm: &[u8]) -> PathBuf {
    let mut compatibility = DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut compatibility);
    let digest = crate::sha256_hex(wasm);
    dir.join(format!("{digest}-{:016x}.cwasm", compatibility.finish()))
}

/// Written to a temporary file and renamed: a reader never sees half an artifact.
fn store(path: &Path, component: &Component) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

/// The one `unsafe` call in Kiln (the workspace denies `unsafe_code` elsewhere).
// SAFETY: the bytes were written by `store` from `Component::serialize` of this
// engine's configuration (the cache key says so), in a directory only Kiln writes;
// wasmtime still checks the header and refuses incompatible artifacts.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    unsafe { Component::deserialize(engine, bytes) }
}
