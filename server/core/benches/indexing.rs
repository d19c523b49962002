//! Indexing throughput (`make bench`): the sources of well-known crates from the local
//! cargo registry uploaded into a project and indexed end to end (sniff, hash, store,
//! parse with the bundled plugins, chunk, full-text index) on an in-memory database,
//! without embeddings. Prints MB/s and files/s, and the ratio to the parsers alone
//! measured in the same run. Target: ≥ 5 MB/s end to end. Asserts nothing.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use kiln_core::{
    ParserService, PluginRegistry, PluginSettings, Principal, ProjectService, TimelineService,
    access,
    db::{DbConfig, connect},
    events::EventDispatcher,
    files::{FileService, FileSettings, IncomingFile},
};
use kiln_plugin_host::{PluginEngine, PluginLimits};
use kiln_types::NewProject;

/// Crates whose `src/` make the corpus (the newest of each found in the registry).
const CRATES: &[&str] = &[
    "serde_json-",
    "regex-syntax-",
    "hyper-1.",
    "syn-2.",
    "clap_builder-",
];
const MAX_CORPUS_BYTES: usize = 24 << 20;

fn registry() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .next()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn corpus() -> Vec<IncomingFile> {
    let Some(registry) = registry() else {
        return Vec::new();
    };
    let mut names: Vec<String> = std::fs::read_dir(&registry)
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut files = Vec::new();
    let mut total = 0;
    for prefix in CRATES {
        let Some(name) = names.iter().rev().find(|n| n.starts_with(prefix)) else {
            continue;
        };
        let mut paths = Vec::new();
        rust_files(&registry.join(name).join("src"), &mut paths);
        for path in paths {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if total + bytes.len() > MAX_CORPUS_BYTES {
                break;
            }
            total += bytes.len();
            let relative = path.strip_prefix(&registry).unwrap_or(&path);
            files.push(IncomingFile {
                name: relative.to_string_lossy().into_owned(),
                bytes,
            });
        }
    }
    files
}

fn rate(bytes: usize, files: usize, seconds: f64) -> (f64, f64) {
    (bytes as f64 / 1e6 / seconds, files as f64 / seconds)
}

#[tokio::main]
async fn main() {
    let files = corpus();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    if files.is_empty() {
        println!("indexing bench: no crate sources in the cargo registry; nothing measured");
        return;
    }
    println!(
        "corpus: {} Rust files, {:.1} MB from {:?}",
        files.len(),
        bytes as f64 / 1e6,
        CRATES
    );

    let db = connect(&DbConfig::memory()).await.expect("database");
    kiln_core::migrations::prepare(&db)
        .await
        .expect("migrations");
    db.query("CREATE user:bench SET email = 'bench@example.org'")
        .await
        .expect("user");
    let plugins = PluginRegistry::new(
        PluginEngine::new().expect("engine"),
        PluginSettings {
            bundled_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../plugins/dist")),
            installed_dir: None,
            ceiling: PluginLimits::default(),
        },
        db.clone(),
    );
    plugins
        .reload()
        .await
        .expect("plugins (run `make plugins`)");
    let parsers = ParserService::new(plugins);
    let timeline = TimelineService::new(db.clone());
    let events = EventDispatcher::new(vec![Arc::new(timeline)], Default::default());
    let principal = Principal {
        user_id: "bench".into(),
        is_admin: false,
        session_id: String::new(),
        csrf_token: String::new(),
        expires_at: u64::MAX,
    };
    let project = ProjectService::new(db.clone(), events.clone())
        .create(
            &principal,
            NewProject {
                name: "bench".into(),
                description: String::new(),
            },
        )
        .await
        .expect("project");

    // Baseline: the parsers alone, two at a time as the indexer runs them.
    let started = Instant::now();
    let mut parsing = tokio::task::JoinSet::new();
    for chunk in files.chunks(files.len().div_ceil(2)) {
        let (parsers, chunk) = (parsers.clone(), chunk.to_vec());
        parsing.spawn(async move {
            for file in chunk {
                let text = String::from_utf8_lossy(&file.bytes).into_owned();
                let _ = parsers.parse(&file.name, text).await;
            }
        });
    }
    parsing.join_all().await;
    let parse_seconds = started.elapsed().as_secs_f64();

    let service = FileService::new(db.clone(), events, parsers, FileSettings::default());
    let indexer = service.indexer().await.expect("indexer");
    let scope = access::project(&db, &principal, &project.id)
        .await
        .expect("scope");
    let started = Instant::now();
    for batch in files.chunks(200) {
        service
            .upload(&scope, batch.to_vec())
            .await
            .expect("upload");
    }
    let upload_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    while indexer.step().await.expect("indexing") > 0 {}
    let index_seconds = started.elapsed().as_secs_f64();
    let status = service.index_status(&scope).await.expect("status");

    // What a files page costs on this project: the listing and the indexing progress,
    // each with the access check a request makes.
    let started = Instant::now();
    let scope = access::project(&db, &principal, &project.id)
        .await
        .expect("scope");
    let listed = service.list(&scope, false).await.expect("list").len();
    let list_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let scope = access::project(&db, &principal, &project.id)
        .await
        .expect("scope");
    service.index_status(&scope).await.expect("status");
    let status_ms = started.elapsed().as_secs_f64() * 1e3;
    let total = upload_seconds + index_seconds;
    let row = |label: &str, seconds: f64| {
        let (mb, per_second) = rate(bytes, files.len(), seconds);
        println!("{label:<28} {seconds:>7.2} s  {mb:>6.2} MB/s  {per_second:>7.0} files/s");
    };
    row("parsers only (baseline)", parse_seconds);
    row("upload (hash, store)", upload_seconds);
    row("index (parse, chunk, FTS)", index_seconds);
    row("end to end", total);
    let (mb, _) = rate(bytes, files.len(), total);
    println!("listing {listed} files: {list_ms:.1} ms; index status: {status_ms:.1} ms");
    println!(
        "end to end / parsers only: {:.2}×; indexed {} failed {}; target ≥ 5 MB/s end to end: {}",
        parse_seconds / total,
        status.indexed,
        status.failed,
        if mb >= 5.0 { "met" } else { "NOT met" }
    );
}
