//! A project's files: the tree with sizes, languages and index status, indexing
//! progress, and uploads of files or whole folders with a line per file.

use std::collections::BTreeMap;

use kiln_types::{FileSummary, IndexState, IndexStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    server_fns::{index_progress, project_files},
    session::ErrorNotice,
};

#[component]
pub fn FilesPage() -> impl IntoView {
    let params = use_params_map();
    let project = move || params.read().get("id").unwrap_or_default();
    // Bumped by every finished upload: the tree and the progress read again.
    let changed = RwSignal::new(0u32);
    // Bumped whenever indexing moved on: each file's state in the tree follows it.
    let progressed = RwSignal::new(0u32);
    let files = crate::json::resource(
        move || (project(), changed.get(), progressed.get()),
        |(id, ..)| project_files(id),
    );
    view! {
        <p><a href=move || format!("/projects/{}", project())>"← Project"</a></p>
        <h1>"Files"</h1>
        <p><a href=move || format!("/projects/{}/search", project())>"Search the code"</a></p>
        <IndexProgress project=Signal::derive(project) changed progressed/>
        <UploadZone project=Signal::derive(project) changed/>
        <Suspense fallback=|| view! { <p>"Loading files…"</p> }>
            {move || Suspend::new(async move {
                match files.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No files yet: upload some above."</p>
                    }
                    .into_any(),
                    Ok(list) => view! { <FileTree files=list/> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Queued / indexed / failed counts, read again every second while work is queued.
#[component]
fn IndexProgress(
    project: Signal<String>,
    changed: RwSignal<u32>,
    progressed: RwSignal<u32>,
) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let status = crate::json::resource(
        move || (project.get(), changed.get(), tick.get()),
        |(id, ..)| index_progress(id),
    );
    // The counts last seen: when they move, the tree is read again (also at the first
    // reading, which may be newer than the tree the page started with).
    let seen = StoredValue::new(None::<(u64, u64, u64)>);
    Effect::new(move || {
        let Some(Ok(status)) = status.get() else {
            return;
        };
        let counts = (status.queued, status.indexed, status.failed);
        if seen.get_value() != Some(counts) {
            progressed.update(|p| *p += 1);
        }
        seen.set_value(Some(counts));
        if !status.is_idle() {
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_secs(1),
            );
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                status.await.ok().map(|status| view! { <ProgressCard status/> })
            })}
        </Transition>
    }
}

#[component]
fn ProgressCard(status: IndexStatus) -> impl IntoView {
    let total = status.queued + status.indexed + status.failed;
    let summary = format!(
        "{} queued · {} indexed · {} failed · {} not indexed (binary)",
        status.queued, status.indexed, status.failed, status.skipped
    );
    let listed = |files: Vec<kiln_types::IndexFailure>| {
        files
            .into_iter()
            .map(|failure| {
                view! {
                    <li><a href=format!("/files/{}", failure.file_id)>{failure.path}</a>{format!(": {}", failure.error)}</li>
                }
            })
            .collect_view()
    };
    let without = status.unparsable + status.fallback;
    let outlines = (without > 0).then(|| {
        let summary = format!(
            "{without} indexed without an outline: {} the parser could not read, {} waiting for their parser",
            status.unparsable, status.fallback
        );
        view! {
            <p class="outline-summary">{summary}</p>
            <ul class="failures without-outline">{listed(status.without_outline)}</ul>
        }
    });
    let failures = listed(status.failures);
    view! {
        <section class="card" aria-labelledby="indexing">
            <h2 id="indexing">"Indexing"</h2>
            <p role="status" class="index-summary" data-queued=status.queued>{summary}</p>
            <progress max=total.max(1) value=status.indexed + status.failed aria-label="Indexed files"></progress>
            <ul class="failures">{failures}</ul>
            {outlines}
        </section>
    }
}

/// Where an uploaded file stands.
#[derive(Debug, Clone, PartialEq)]
// Only the browser uploads, so only the hydrated build constructs these.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum UploadState {
    Waiting,
    Sending,
    Done(String),
    Failed(String),
}

#[component]
fn UploadZone(project: Signal<String>, changed: RwSignal<u32>) -> impl IntoView {
    let rows = RwSignal::new(Vec::<(String, UploadState)>::new());
    let dragging = RwSignal::new(false);
    // Only the browser uploads; the server renders the controls.
    #[cfg(not(feature = "hydrate"))]
    let (on_pick, on_drop) = {
        let _ = (project, changed);
        (|_: leptos::ev::Event| {}, |_: leptos::ev::DragEvent| {})
    };
    #[cfg(feature = "hydrate")]
    let (on_pick, on_drop) = {
        use wasm_bindgen::JsCast;
        let pick = move |event: leptos::ev::Event| {
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            if let Some(list) = input.files() {
                send(project.get_untracked(), list, rows, changed);
            }
            input.set_value("");
        };
        let drop = move |event: leptos::ev::DragEvent| {
            event.prevent_default();
            dragging.set(false);
            if let Some(list) = event.data_transfer().and_then(|d| d.files()) {
                send(project.get_untracked(), list, rows, changed);
            }
        };
        (pick, drop)
    };
    let list = move || {
        rows.get()
            .into_iter()
            .map(|(path, state)| {
                let (class, text) = match state {
                    UploadState::Waiting => ("waiting", "waiting".to_owned()),
                    UploadState::Sending => ("sending", "uploading…".to_owned()),
                    UploadState::Done(outcome) => ("done", outcome),
                    UploadState::Failed(detail) => ("error", detail),
                };
                view! {
                    <li class=format!("upload upload-{class}")>
                        <span class="upload-path">{path}</span>" — "<span class="upload-outcome">{text}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" aria-labelledby="upload">
            <h2 id="upload">"Upload"</h2>
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                on:dragover=move |event: leptos::ev::DragEvent| {
                    event.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>"Drop files here, or choose them. Archives (.zip, .tar.gz) are unpacked."</p>
                <label for="upload-files">"Files"</label>
                <input id="upload-files" type="file" multiple on:change=on_pick/>
                <label for="upload-folder">"A folder"</label>
                <input id="upload-folder" type="file" multiple prop:webkitdirectory=true on:change=on_pick/>
            </div>
            <ul class="uploads" aria-live="polite">{list}</ul>
        </section>
    }
}

/// Uploads each file on its own (so each gets its own outcome), one after another.
#[cfg(feature = "hydrate")]
fn send(
    project: String,
    list: web_sys::FileList,
    rows: RwSignal<Vec<(String, UploadState)>>,
    changed: RwSignal<u32>,
) {
    let files: Vec<(web_sys::File, String)> = (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file| {
            // Set when the file was picked as part of a folder (`folder/src/main.rs`).
            let relative = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|value| value.as_string())
                .filter(|path| !path.is_empty());
            let path = relative.unwrap_or_else(|| file.name());
            (file, path)
        })
        .collect();
    let first = rows.with_untracked(Vec::len);
    rows.update(|rows| {
        rows.extend(
            files
                .iter()
                .map(|(_, path)| (path.clone(), UploadState::Waiting)),
        );
    });
    leptos::task::spawn_local(async move {
        for (offset, (file, path)) in files.into_iter().enumerate() {
            let row = first + offset;
            let set = move |state| rows.update(|rows| rows[row].1 = state);
            set(UploadState::Sending);
            match crate::upload::upload_file(&project, &file, &path).await {
                Ok(uploaded) => {
                    let outcome = serde_json::to_value(uploaded.outcome)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    set(UploadState::Done(outcome));
                }
                Err(detail) => set(UploadState::Failed(detail)),
            }
            changed.update(|n| *n += 1);
        }
    });
}

/// Files grouped by directory.
#[derive(Default)]
struct Dir {
    dirs: BTreeMap<String, Dir>,
    files: Vec<FileSummary>,
}

impl Dir {
    fn build(files: Vec<FileSummary>) -> Self {
        let mut root = Dir::default();
        for file in files {
            let mut dir = &mut root;
            let mut segments: Vec<&str> = file.path.split('/').collect();
            segments.pop();
            for segment in segments {
                dir = dir.dirs.entry(segment.to_owned()).or_default();
            }
            dir.files.push(file);
        }
        root
    }
}

#[component]
fn FileTree(files: Vec<FileSummary>) -> impl IntoView {
    let count = files.len();
    view! {
        <section class="card" aria-labelledby="tree">
            <h2 id="tree">{format!("{count} file{}", if count == 1 { "" } else { "s" })}</h2>
            <ul class="tree">{render_dir(Dir::build(files))}</ul>
        </section>
    }
}

fn render_dir(dir: Dir) -> AnyView {
    let dirs = dir
        .dirs
        .into_iter()
        .map(|(name, sub)| {
            view! {
                <li class="tree-dir">
                    <details open>
                        <summary>{name}"/"</summary>
                        <ul>{render_dir(sub)}</ul>
                    </details>
                </li>
            }
        })
        .collect_view();
    let files = dir
        .files
        .into_iter()
        .map(|file| {
            let name = file.path.rsplit('/').next().unwrap_or(&file.path).to_owned();
            let state = match file.index_status {
                IndexState::Queued => "queued",
                IndexState::Indexed => "indexed",
                IndexState::Failed => "failed",
                IndexState::Skipped => "not indexed",
            };
            view! {
                <li class="tree-file" data-path=file.path.clone()>
                    <a href=format!("/files/{}", file.id)>{name}</a>
                    <span class="muted">{format!(" {} · {} · ", human_size(file.size), file.language)}</span>
                    <span class=format!("index index-{}", file.index_status.as_str()) title=file.index_error.unwrap_or_default()>{state}</span>
                    {file.outline.explain().map(|why| view! {
                        <span class="index no-outline" title=file.outline_error.clone().unwrap_or_default()>{format!(" · no outline: {why}")}</span>
                    })}
                </li>
            }
        })
        .collect_view();
    view! { {dirs}{files} }.into_any()
}

/// `1.2 KB`, `3.4 MB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..1000 => format!("{bytes} B"),
        1000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}
