//! `kiln serve`: open the database, migrate, load plugins, listen until told to stop.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use kiln_core::{
    AuthService, PluginRegistry, PluginSettings, Services, auth::TokenSigner, hub::EventHub,
    jobs::Supervisor,
};
use kiln_plugin_host::{PluginEngine, PluginLimits};
use leptos::prelude::LeptosOptions;

use crate::{
    config::Config,
    http::{AppState, router},
};

/// How long in-flight requests get to finish after a stop signal.
const DRAIN: Duration = Duration::from_secs(20);
/// How long background jobs get to stop after the HTTP server has drained.
const JOBS_SHUTDOWN: Duration = Duration::from_secs(10);

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
    let applied = kiln_core::migrations::prepare(&db).await?;
    tracing::info!(applied = applied.len(), "database schema is current");

    let mut engine = PluginEngine::new()?;
    if let Some(dir) = &config.plugin_cache_dir {
        engine = engine.with_cache_dir(dir);
    }
    let plugins = PluginRegistry::new(
        engine,
        PluginSettings {
            bundled_dir: Some(config.plugin_dir.clone()),
            installed_dir: config.installed_plugin_dir.clone(),
            ceiling: PluginLimits::default(),
        },
        db.clone(),
    );
    // A plugin that cannot be loaded is listed as rejected; Kiln serves regardless.
    let loaded = plugins.reload().await?;
    if loaded.iter().all(|plugin| plugin.status == "rejected") {
        tracing::warn!(dir = %config.plugin_dir.display(), "no plugins loaded; run `make plugins`");
    }
    let auth = auth_service(&config, &db)?;
    let services = Services::new(db, auth, plugins, config.files, config.chat.clone());
    if config.database.is_embedded() {
        // Nobody else writes to an embedded database: a reply still `streaming` was
        // cut off when Kiln last stopped.
        let interrupted = services.chat.fail_interrupted().await?;
        if interrupted > 0 {
            tracing::info!(
                interrupted,
                "replies cut off by the last stop marked failed"
            );
        }
    }
    if !services.chat.llm().is_configured() {
        tracing::warn!(
            "KILN_LLM_BASE_URL is not set: chat will say that no language model is configured"
        );
    }
    // Background jobs outlive requests: the indexer resumes the stored backlog now and
    // runs until shutdown.
    let jobs = Supervisor::new();
    services
        .files
        .start_indexer(&jobs, config.database.is_embedded())
        .await?;

    let chat = services.chat.clone();
    let leptos_options = leptos_options(&config)?;
    let app = router(AppState::new(services, leptos_options, config.http.clone()));
    let listener = tokio::net::TcpListener::bind(config.site_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.site_addr))?;
    tracing::info!("Kiln is serving on http://{}", config.site_addr);
    let stop = jobs.token();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown({
        // Jobs are told to stop as soon as the signal comes, while requests drain.
        let stop = stop.clone();
        async move {
            shutdown_signal().await;
            stop.cancel();
        }
    });
    // Draining is bounded too: a connection that stays open does not keep Kiln up.
    let drain_deadline = async {
        stop.cancelled().await;
        tokio::time::sleep(DRAIN).await;
    };
    tokio::select! {
        served = server => served?,
        () = drain_deadline => {
            tracing::warn!(drain_s = DRAIN.as_secs(), "requests still open after the drain time; stopping anyway");
        }
    }
    chat.shutdown(JOBS_SHUTDOWN).await;
    jobs.shutdown(JOBS_SHUTDOWN).await;
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
    // In-process for now; a broker for several instances plugs in here.
    let hub = EventHub::default();
    Ok(AuthService::new(
        db.clone(),
        signer,
        auth.refresh_ttl,
        auth.registration,
        hub,
    ))
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
