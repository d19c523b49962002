//! Shared by the plugin-host tests: the compiled components `make plugins` produced.

use std::path::PathBuf;

/// The bytes of `plugins/dist/<relative>`.
pub fn wasm(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/dist")
        .join(relative);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make plugins` first)", path.display()))
}
