//! `kiln serve`: open the database, migrate, load plugins, listen until told to stop.

use std::{net::SocketAddr, path::Path};

use anyhow::Context;
use kiln_core::{
    AuthService, Services, SnippetService,
    auth::TokenSigner,
    migrations::{Migrator, bundled},
};
use kiln_plugin_host::{PluginEngine, PluginLimits, SnippetExtractorPlugin};
use leptos::prelude::LeptosOptions;

use crate::{
    config::Config,
    http::{AppState, router},
};

/// File name of the bundled snippet extractor inside the plugin directory.
const SNIPPET_EXTRACTOR_WASM: &str = "kiln_snippet_extractor.wasm";

pub async fn run(config: Config) -> anyhow::Result<()> {
    // Fail fast: without its database Kiln cannot do anything useful.
    let db = kiln_core::db::connect(&config.database)
        .await
        .with_context(|| {
            format!(
                "cannot open the database at {}",
                redact_url(&config.database.url)
            )
        })?;
    let applied = Migrator::new(&db, bundled()).up().await?;
    tracing::info!(applied = applied.len(), "database schema is current");

    let mut engine = PluginEngine::new()?;
    if let Some(dir) = &config.plugin_cache_dir {
        engine = engine.with_cache_dir(dir);
    }
    let snippets = SnippetService::new(load_snippet_extractor(&engine, &config.plugin_dir));
    let auth = auth_service(&config, &db)?;
    let services = Services::new(db, auth, snippets);

    let leptos_options = leptos_options(&config)?;
    let app = router(AppState::new(services, leptos_options, config.http.clone()));
    let listener = tokio::net::TcpListener::bind(config.site_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.site_addr))?;
    tracing::info!("Kiln is serving on http://{}", config.site_addr);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("Kiln stopped");
    Ok(())
}

fn auth_service(config: &Config, db: &kiln_core::db::Db) -> anyhow::Result<AuthService> {
    let auth = &config.auth;
    if auth.ephemeral_key {
        tracing::warn!(
            "KILN_JWT_KEYS is not set: using a random signing key, so sessions end when Kiln restarts"
        );
    }
    let signer =
        TokenSigner::new(&auth.keys, &auth.active_kid, auth.access_ttl).context("KILN_JWT_KEYS")?;
    tracing::info!(
        active_kid = %auth.active_kid,
        keys = auth.keys.len(),
        registration = ?auth.registration,
        "sessions configured"
    );
    Ok(AuthService::new(
        db.clone(),
        signer,
        auth.refresh_ttl,
        auth.registration,
    ))
}

/// The bundled snippet extractor, or `None` (logged) when it cannot be loaded: Kiln
/// keeps serving everything else.
fn load_snippet_extractor(engine: &PluginEngine, dir: &Path) -> Option<SnippetExtractorPlugin> {
    let path = dir.join(SNIPPET_EXTRACTOR_WASM);
    let wasm = match std::fs::read(&path) {
        Ok(wasm) => wasm,
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "snippet extractor plugin not found; run `make plugins`");
            return None;
        }
    };
    match SnippetExtractorPlugin::load(
        engine,
        "kiln.snippet-extractor",
        &wasm,
        PluginLimits::default(),
    ) {
        Ok(plugin) => {
            tracing::info!(plugin = plugin.id(), origin = ?plugin.origin(), "plugin loaded");
            Some(plugin)
        }
        Err(error) => {
            tracing::error!(%error, "snippet extractor plugin rejected");
            None
        }
    }
}

/// Leptos settings from the environment cargo-leptos provides, with Kiln's listen address.
fn leptos_options(config: &Config) -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::config::get_configuration(None)
        .context("leptos configuration")?
        .leptos_options;
    options.site_addr = config.site_addr;
    if options.output_name.is_empty() {
        options.output_name = "kiln".into();
    }
    Ok(options)
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// Database URLs may carry credentials (`ws://user:pass@host`): never log them.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_in_database_urls_are_redacted() {
        assert_eq!(
            super::redact_url("ws://root:secret@db:8000"),
            "ws://***@db:8000"
        );
        assert_eq!(super::redact_url("surrealkv:///data"), "surrealkv:///data");
    }
}
