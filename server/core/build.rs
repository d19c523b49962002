//! Embeds `migrations/NNNN_name.surql` (+ optional `.down.surql`) into the binary, in order.

use std::{env, fmt::Write, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut ups: Vec<(u32, String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(&dir).expect("migrations/ must exist") {
        let path = entry.expect("readable migrations/").path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if !file.ends_with(".surql") || file.ends_with(".down.surql") {
            continue;
        }
        let stem = file.trim_end_matches(".surql");
        let (number, _) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("{file}: expected NNNN_name.surql"));
        let version: u32 = number
            .parse()
            .unwrap_or_else(|_| panic!("{file}: expected a numeric NNNN_ prefix"));
        assert!(
            ups.iter().all(|(v, ..)| *v != version),
            "{file}: duplicate migration number {version}"
        );
        ups.push((version, stem.to_owned(), path));
    }
    ups.sort();
    let mut out = String::from("pub(crate) static BUNDLED: &[Migration] = &[\n");
    for (version, name, path) in ups {
        let down = path.with_file_name(format!("{name}.down.surql"));
        let down = if down.exists() {
            format!("Some(include_str!({:?}))", down.canonicalize().unwrap())
        } else {
            "None".to_owned()
        };
        writeln!(
            out,
            "    Migration {{ version: {version}, name: {name:?}, up: include_str!({:?}), down: {down} }},",
            path.canonicalize().unwrap()
        )
        .unwrap();
    }
    out.push_str("];\n");
    fs::write(
        PathBuf::from(env::var("OUT_DIR").unwrap()).join("migrations.rs"),
        out,
    )
    .unwrap();
}
