//! One file: highlighted view with its symbol outline, the editor (which shows both
//! versions when someone else saved first), history with diffs and restore, delete.

use kiln_types::{
    ApiError, CodeSymbol, DiffLineKind, ErrorKind, FileDetail, FileDiff, FileSummary, FileVersion,
    highlight::highlight,
};
use leptos::{html, prelude::*};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    pages::files::human_size,
    pages::time::When,
    server_fns::{
        DeleteFile, RestoreFile, SaveFile, diff_versions, file_versions, get_file, quoted_version,
    },
    session::ErrorNotice,
};

/// False until this part of the page runs in the browser with its handlers attached
/// (the file's parts render once its data has arrived, after the page hydrated): shown
/// as `data-ready` for scripts and tests.
fn ready() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move || set_ready.set(true));
    ready
}

#[component]
pub fn FilePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveFile>::new();
    let restore = ServerAction::<RestoreFile>::new();
    let delete = ServerAction::<DeleteFile>::new();
    // What the user last tried to save: it outlives the editor, which is rebuilt with
    // the server's content after every save, so a conflict can still show it.
    let mine = RwSignal::new(None::<String>);
    // Any finished change reads the file and its history again.
    let changes = move || {
        (
            id(),
            save.version().get(),
            restore.version().get(),
            delete.version().get(),
        )
    };
    // Loaded in the browser: the file changes under the page (indexing finishes, another
    // tab saves), and a server render that differs from the browser's first read would
    // break hydration.
    let file = LocalResource::new(move || get_file(changes().0));
    let versions = LocalResource::new(move || file_versions(changes().0));
    // `?version=N`: a chat citation of a version the file has moved on from.
    let query = use_query_map();
    let quoted = LocalResource::new(move || {
        let id = id();
        let version = query
            .read()
            .get("version")
            .and_then(|v| v.parse::<u64>().ok());
        async move {
            match version {
                Some(version) => quoted_version(id, version)
                    .await
                    .ok()
                    .filter(|v| !v.current),
                None => None,
            }
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                quoted.await.map(|version| view! { <QuotedVersion version/> }.into_any())
            })}
        </Transition>
        <Transition fallback=|| view! { <p>"Loading file…"</p> }>
            {move || Suspend::new(async move {
                let (detail, list) = (file.await, versions.await);
                match detail {
                    Ok(detail) => {
                        // Erased types keep the view's type shallow enough to compile.
                        let file = view! { <FileView detail save restore delete mine/> }.into_any();
                        let history = list
                            .ok()
                            .map(|list| view! { <History id=id() list restore/> }.into_any());
                        view! { {file}{history} }.into_any()
                    }
                    Err(error) => view! {
                        <h1>"File unavailable"</h1>
                        <ErrorNotice error/>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn FileView(
    detail: FileDetail,
    save: ServerAction<SaveFile>,
    restore: ServerAction<RestoreFile>,
    delete: ServerAction<DeleteFile>,
    mine: RwSignal<Option<String>>,
) -> impl IntoView {
    let file = detail.file.clone();
    let deleted = file.deleted_at.is_some();
    let errors = move || {
        [
            restore.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .map(|error| view! { <ErrorNotice error/> })
        .collect_view()
    };
    let undelete = {
        let id = file.id.clone();
        move |_| {
            restore.dispatch(RestoreFile {
                id: id.clone(),
                version: None,
            });
        }
    };
    let remove = {
        let id = file.id.clone();
        move |_| {
            delete.dispatch(DeleteFile { id: id.clone() });
        }
    };
    view! {
        <p><a href=format!("/projects/{}/files", file.project_id)>"← Files"</a></p>
        <h1 class="file-path">{file.path.clone()}</h1>
        <p class="muted file-meta">
            {format!(
                "{} · {} · {} lines · version {} · {}",
                file.language,
                human_size(file.size),
                file.lines,
                file.version,
                file.index_status.as_str()
            )}
        </p>
        {detail.note.clone().map(|note| view! { <p class="hint">{note}</p> })}
        {file.outline.explain().map(|why| {
            let detail = file.outline_error.clone().map(|e| format!(" ({e})")).unwrap_or_default();
            view! { <p class="hint outline-note" role="note">{format!("No outline: {why}{detail}.")}</p> }
        })}
        {errors}
        {if deleted {
            view! {
                <p class="error" role="status">"This file is deleted."</p>
                <button on:click=undelete>"Restore file"</button>
            }
            .into_any()
        } else {
            view! {
                <div class="file-layout">
                    <Outline symbols=detail.symbols.clone()/>
                    <CodeView language=file.language.clone() content=detail.content.clone()/>
                </div>
                {detail.content.clone().map(|content| view! { <Editor file=file.clone() content save mine/> })}
                <section class="card danger" aria-labelledby="delete-file">
                    <h2 id="delete-file">"Delete"</h2>
                    <p class="hint">"Deleted files leave search and the project's counters, and can be restored."</p>
                    <button class="danger" on:click=remove>"Delete file"</button>
                </section>
            }
            .into_any()
        }}
    }
}

#[component]
fn Outline(symbols: Vec<CodeSymbol>) -> impl IntoView {
    // Always the same elements (hidden when empty): the outline appears once the file is
    // indexed, possibly between the server's render and the browser's hydration.
    let empty = symbols.is_empty();
    let depth = |symbol: &CodeSymbol| {
        let mut depth = 0;
        let mut parent = symbol.parent;
        while let Some(index) = parent {
            depth += 1;
            parent = symbols.get(index as usize).and_then(|s| s.parent);
            if depth > 32 {
                break;
            }
        }
        depth
    };
    let items = symbols
        .iter()
        .map(|symbol| {
            let kind = format!("{:?}", symbol.kind).to_lowercase();
            view! {
                <li style=format!("padding-left: {}rem", depth(symbol))>
                    <a href=format!("#L{}", symbol.span.start_line)>{symbol.name.clone()}</a>
                    " "<small class="muted">{kind}</small>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="outline card" aria-label="Symbols" hidden=empty>
            <h2>"Outline"</h2>
            <ul>{items}</ul>
        </nav>
    }
}

/// An older version, as a chat quoted it: read-only, lines anchored `#V<n>`.
#[component]
fn QuotedVersion(version: FileVersion) -> impl IntoView {
    mark_cited_lines('V');
    let lines = version
        .content
        .clone()
        .unwrap_or_default()
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let number = index + 1;
            view! {
                <div class="line" id=format!("V{number}")>
                    <span class="ln" aria-hidden="true">{number}</span>
                    <code>{line.to_owned()}</code>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card quoted" aria-labelledby="quoted-version">
            <h2 id="quoted-version">{format!("Version {} of {}, as quoted", version.version, version.path)}</h2>
            <p class="hint">"The file has changed since; its current version follows below."</p>
            <div class="code" role="region" aria-label="Quoted version" tabindex="0">{lines}</div>
        </section>
    }
    .into_any()
}

#[component]
fn CodeView(language: String, content: Option<String>) -> impl IntoView {
    let Some(content) = content else {
        return view! { <p class="muted">"Binary file: not shown."</p> }.into_any();
    };
    mark_cited_lines('L');
    let lines = highlight(&language, &content)
        .into_iter()
        .enumerate()
        .map(|(index, tokens)| {
            let number = index + 1;
            let tokens = tokens
                .into_iter()
                .map(|(kind, text)| view! { <span class=kind.class()>{text}</span> })
                .collect_view();
            view! {
                <div class="line" id=format!("L{number}")>
                    <a class="ln" href=format!("#L{number}") aria-hidden="true" tabindex="-1">{number}</a>
                    <code>{tokens}</code>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="code" role="region" aria-label="File content" tabindex="0">{lines}</div>
    }
    .into_any()
}

/// The editor. A save made on an outdated version comes back as a conflict: then both
/// the user's text and the version now on the server are shown, and the user picks.
#[component]
fn Editor(
    file: FileSummary,
    content: String,
    save: ServerAction<SaveFile>,
    mine: RwSignal<Option<String>>,
) -> impl IntoView {
    let textarea = NodeRef::<html::Textarea>::new();
    let id = file.id.clone();
    let version = file.version;
    let submit = {
        let id = id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let Some(area) = textarea.get() else { return };
            let content = area.value();
            mine.set(Some(content.clone()));
            save.dispatch(SaveFile {
                id: id.clone(),
                version,
                content,
            });
        }
    };
    let conflict = move || match save.value().get() {
        Some(Err(error)) if error.kind == ErrorKind::Conflict => error.current.clone(),
        _ => None,
    };
    let other_error = move || match save.value().get() {
        Some(Err(error)) if error.kind != ErrorKind::Conflict => Some(error),
        _ => None,
    };
    let saved = move || match save.value().get() {
        Some(Ok(saved)) => Some(saved.version),
        _ => None,
    };
    let theirs = content.clone();
    let ready = ready();
    view! {
        <section class="card editor" aria-labelledby="edit-file" data-ready=move || ready.get().to_string()>
            <h2 id="edit-file">"Edit"</h2>
            {move || saved().map(|v| view! { <p class="success" role="status">{format!("Saved as version {v}.")}</p> })}
            {move || other_error().map(|error: ApiError| view! { <ErrorNotice error/> })}
            {move || conflict().map(|current| {
                let now = current.current_version;
                let keep = {
                    let id = id.clone();
                    move |_| {
                        if let Some(content) = mine.get_untracked() {
                            save.dispatch(SaveFile { id: id.clone(), version: now, content });
                        }
                    }
                };
                view! {
                    <div class="conflict" role="alert">
                        <p>
                            <strong>"Someone else saved this file first"</strong>
                            {format!(" (it is now at version {now}). Your changes were not saved.")}
                        </p>
                        <div class="conflict-panes">
                            <figure>
                                <figcaption>"Your version"</figcaption>
                                <pre class="conflict-mine">{mine.get().unwrap_or_default()}</pre>
                            </figure>
                            <figure>
                                <figcaption>{format!("Version {now} on the server")}</figcaption>
                                <pre class="conflict-theirs">{theirs.clone()}</pre>
                            </figure>
                        </div>
                        <button on:click=keep>"Save my version anyway"</button>
                        " "
                        <a href="">"Discard mine and reload"</a>
                    </div>
                }
            })}
            <form on:submit=submit>
                <label for="file-content">{format!("Content (editing version {version})")}</label>
                <textarea id="file-content" node_ref=textarea rows="16" spellcheck="false">{content}</textarea>
                <button type="submit" disabled=move || save.pending().get()>"Save"</button>
            </form>
        </section>
    }
}

#[component]
fn History(
    id: String,
    list: Vec<FileVersion>,
    restore: ServerAction<RestoreFile>,
) -> impl IntoView {
    // Loaded on demand, when the user asks for a diff.
    let diff = Action::new({
        let id = id.clone();
        move |from: &u64| diff_versions(id.clone(), *from)
    });
    let rows = list
        .into_iter()
        .map(|version| {
            let number = version.version;
            let actions = (!version.current).then(|| {
                let id = id.clone();
                view! {
                    <button class="link" on:click=move |_| { diff.dispatch(number); }>"Changes since"</button>
                    " "
                    <button class="link" on:click=move |_| {
                        restore.dispatch(RestoreFile { id: id.clone(), version: Some(number) });
                    }>{format!("Restore version {number}")}</button>
                }
            });
            view! {
                <tr data-version=number>
                    <th scope="row">{if version.current { format!("{number} (current)") } else { number.to_string() }}</th>
                    <td><When at=version.created_at.clone()/></td>
                    <td>{version.path}</td>
                    <td>{human_size(version.size)}</td>
                    <td><code>{version.sha256.chars().take(10).collect::<String>()}</code></td>
                    <td>{actions}</td>
                </tr>
            }
        })
        .collect_view();
    let ready = ready();
    view! {
        <section class="card history" aria-labelledby="history" data-ready=move || ready.get().to_string()>
            <h2 id="history">"History"</h2>
            <table class="versions">
                <thead><tr>
                    <th scope="col">"Version"</th><th scope="col">"Saved"</th><th scope="col">"Path"</th>
                    <th scope="col">"Size"</th><th scope="col">"sha256"</th><th scope="col">"Actions"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {move || diff.value().get().map(|result| match result {
                Ok(diff) => view! { <DiffView diff/> }.into_any(),
                Err(error) => view! { <ErrorNotice error/> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn DiffView(diff: FileDiff) -> impl IntoView {
    let hunks = diff
        .hunks
        .into_iter()
        .map(|hunk| {
            let lines = hunk
                .into_iter()
                .map(|line| {
                    let (class, sign) = match line.kind {
                        DiffLineKind::Added => ("diff-added", "+"),
                        DiffLineKind::Removed => ("diff-removed", "-"),
                        DiffLineKind::Context => ("diff-context", " "),
                    };
                    view! { <div class=class><span class="sign">{sign}</span>{line.text}</div> }
                })
                .collect_view();
            view! { <div class="hunk">{lines}</div> }
        })
        .collect_view();
    view! {
        <div class="diff" aria-label="Changes">
            <h3>{format!("Version {} → {}: +{} −{}", diff.from, diff.to, diff.added, diff.removed)}</h3>
            {hunks}
        </div>
    }
}

/// A link to `#L12` or `#L12-L20` (a chat citation; `V` for a quoted version's lines):
/// once the lines exist, they are marked (`data-cited`) and the first is scrolled to.
/// The browser's own jump to the anchor happened before the file was loaded.
fn mark_cited_lines(prefix: char) {
    // In the browser only, after the lines are on the page (the next frame).
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        request_animation_frame(move || {
            let hash = window().location().hash().unwrap_or_default();
            let Some((start, end)) = cited_lines(&hash, prefix) else {
                return;
            };
            let document = document();
            for number in start..=end.min(start.saturating_add(10_000)) {
                if let Some(line) = document.get_element_by_id(&format!("{prefix}{number}")) {
                    let _ = line.set_attribute("data-cited", "true");
                }
            }
            if let Some(first) = document.get_element_by_id(&format!("{prefix}{start}")) {
                first.scroll_into_view_with_bool(true);
            }
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = prefix;
}

/// `(first, last)` line of `#L12` / `#L12-L20` (`prefix` `L` or `V`), `None` for any
/// other fragment.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn cited_lines(hash: &str, prefix: char) -> Option<(usize, usize)> {
    let number = |part: &str| part.strip_prefix(prefix)?.parse::<usize>().ok();
    let fragment = hash.trim_start_matches('#');
    let (start, end) = match fragment.split_once('-') {
        Some((start, end)) => (number(start)?, number(end)?),
        None => (number(fragment)?, number(fragment)?),
    };
    (start >= 1 && start <= end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::cited_lines;

    #[test]
    fn cited_lines_are_read_from_the_fragment() {
        assert_eq!(cited_lines("#L12", 'L'), Some((12, 12)));
        assert_eq!(cited_lines("#L12-L20", 'L'), Some((12, 20)));
        assert_eq!(cited_lines("V3-V4", 'V'), Some((3, 4)));
        for other in [
            "",
            "#L",
            "#L0",
            "#L20-L12",
            "#V12",
            "#L1-V2",
            "#Lx",
            "#quoted-version",
        ] {
            assert_eq!(cited_lines(other, 'L'), None, "{other}");
        }
    }
}
