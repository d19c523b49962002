//! `kiln import <dir> --project <id>`: puts a local directory or git working tree into
//! a project through a running Kiln's REST API, honouring `.gitignore`. A second import
//! sends only what changed: files whose sha256 the project already has are skipped.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kiln_types::{ApiError, FileSummary, TokenResponse, UploadOutcome, UploadReport};
use reqwest::blocking::{Client, RequestBuilder, multipart};

/// Files sent per request: well under the server's default request limit.
const BATCH_BYTES: u64 = 8 << 20;
const BATCH_FILES: usize = 200;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The directory to import (a git working tree or any folder).
    pub dir: PathBuf,
    /// The project's id (see its URL: /projects/<id>).
    #[arg(long)]
    pub project: String,
    /// Where Kiln runs.
    #[arg(long, env = "KILN_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// An access token; without one, `--email` and `KILN_PASSWORD` log in.
    #[arg(long, env = "KILN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long, env = "KILN_EMAIL")]
    pub email: Option<String>,
}

/// What an import did, for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: Vec<(String, String)>,
    /// Operating-system metadata the server set aside.
    pub skipped: u64,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let client = Client::builder()
        .user_agent(concat!("kiln-import/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let base = args.url.trim_end_matches('/').to_owned();
    let token = match args.token {
        Some(token) => token,
        None => log_in(&client, &base, args.email.as_deref())?,
    };
    let api = Api {
        client,
        base,
        token,
        project: args.project,
    };
    let summary = import(&api, &args.dir)?;
    println!(
        "imported {}: {} created, {} updated, {} unchanged, {} refused",
        args.dir.display(),
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.refused.len()
    );
    if summary.skipped > 0 {
        println!(
            "  skipped {} operating-system metadata files (Finder, Explorer, trash)",
            summary.skipped
        );
    }
    for (path, reason) in &summary.refused {
        println!("  refused {path}: {reason}");
    }
    Ok(())
}

fn log_in(client: &Client, base: &str, email: Option<&str>) -> anyhow::Result<String> {
    let Some(email) = email else {
        bail!("give an access token (--token or KILN_TOKEN), or --email with KILN_PASSWORD");
    };
    let password = std::env::var("KILN_PASSWORD")
        .context("KILN_PASSWORD must hold the password for --email")?;
    let response = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .with_context(|| format!("cannot reach Kiln at {base}"))?;
    Ok(answer::<TokenResponse>(response)?.access_token)
}

struct Api {
    client: Client,
    base: String,
    token: String,
    project: String,
}

impl Api {
    fn get(&self, path: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }
}

/// The JSON body of a success, or the server's error envelope as the error.
fn answer<T: serde::de::DeserializeOwned>(
    response: reqwest::blocking::Response,
) -> anyhow::Result<T> {
    let status = response.status();
    let text = response.text()?;
    if status.is_success() {
        return serde_json::from_str(&text).with_context(|| format!("unexpected answer: {text}"));
    }
    match serde_json::from_str::<ApiError>(&text) {
        Ok(error) => bail!("{status}: {}", error.detail),
        Err(_) => bail!("{status}: {text}"),
    }
}

/// A local file to send: its path in the project and where it is on disk.
struct Local {
    path: String,
    file: PathBuf,
    bytes: Vec<u8>,
}

fn import(api: &Api, dir: &Path) -> anyhow::Result<Summary> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let known: HashMap<String, String> = answer::<Vec<FileSummary>>(
        api.get(&format!("/api/projects/{}/files", api.project))
            .send()?,
    )?
    .into_iter()
    .map(|file| (file.path, file.sha256))
    .collect();
    let files = walk(dir)?;
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = Summary::default();
    let mut batch: Vec<Local> = Vec::new();
    let mut batch_bytes = 0;
    for (file, size) in files {
        let path = relative_path(dir, &file)?;
        let bytes = std::fs::read(&file).with_context(|| format!("{}", file.display()))?;
        if known.get(&path) == Some(&kiln_plugin_host::sha256_hex(&bytes)) {
            summary.unchanged += 1;
            progress.inc(size);
            continue;
        }
        if !batch.is_empty() && (batch_bytes + size > BATCH_BYTES || batch.len() >= BATCH_FILES) {
            send(api, std::mem::take(&mut batch), &mut summary, &progress)?;
            batch_bytes = 0;
        }
        batch_bytes += size;
        batch.push(Local { path, file, bytes });
    }
    if !batch.is_empty() {
        send(api, batch, &mut summary, &progress)?;
    }
    progress.finish_and_clear();
    Ok(summary)
}

/// The files under `dir` that git would track: `.gitignore` (and `.ignore`) honoured
/// inside a repository or not, `.git` itself skipped; sorted, with their sizes.
fn walk(dir: &Path) -> anyhow::Result<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry?;
        if entry.file_type().is_some_and(|t| t.is_file()) {
            let size = entry.metadata()?.len();
            files.push((entry.into_path(), size));
        }
    }
    files.sort();
    Ok(files)
}

fn relative_path(dir: &Path, file: &Path) -> anyhow::Result<String> {
    let relative = file.strip_prefix(dir)?;
    let parts: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(parts.join("/"))
}

/// One upload request. A file the server refuses alone (too large, unsafe name) is
/// reported and the import goes on; any other error stops it.
fn send(
    api: &Api,
    batch: Vec<Local>,
    summary: &mut Summary,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    let size: u64 = batch.iter().map(|f| f.bytes.len() as u64).sum();
    let mut form = multipart::Form::new();
    for file in &batch {
        form = form.part(
            "files",
            multipart::Part::bytes(file.bytes.clone()).file_name(file.path.clone()),
        );
    }
    progress.set_message(format!("{} files", batch.len()));
    let response = api
        .post(&format!("/api/projects/{}/files", api.project))
        .multipart(form)
        .send()?;
    let status = response.status();
    if (status.as_u16() == 413 || status.as_u16() == 422) && batch.len() > 1 {
        // Find the file that is refused by sending them one by one.
        for file in batch {
            send(api, vec![file], summary, progress)?;
        }
        return Ok(());
    }
    match answer::<UploadReport>(response) {
        Ok(report) => {
            for file in report.files {
                match file.outcome {
                    UploadOutcome::Created => summary.created += 1,
                    UploadOutcome::Updated => summary.updated += 1,
                    UploadOutcome::Duplicate => summary.unchanged += 1,
                    UploadOutcome::Refused => summary
                        .refused
                        .push((file.path, file.note.unwrap_or_default())),
                    UploadOutcome::Skipped => summary.skipped += 1,
                }
            }
        }
        Err(error) if batch.len() == 1 && (status.as_u16() == 413 || status.as_u16() == 422) => {
            summary
                .refused
                .push((batch[0].file.display().to_string(), error.to_string()));
        }
        Err(error) => return Err(error),
    }
    progress.inc(size);
    Ok(())
}
