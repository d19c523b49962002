//! Kiln's service layer. REST handlers, WebSocket commands and Leptos server functions
//! all call these services; none of them holds business logic of its own.

pub mod access;
pub mod auth;
pub mod chat;
mod error;
pub mod events;
pub mod files;
pub mod hub;
pub mod jobs;
pub mod markdown;
pub mod notebook;
pub mod parsing;
pub mod plugins;
mod projects;
mod snippets;
pub mod store;
pub use store::{db, migrations, pagination, usage};
mod timeline;

pub use auth::{AuthService, Principal};
pub use chat::{ChatService, ChatSettings};
pub use error::{Conflict, ServiceError};
pub use parsing::ParserService;
pub use plugins::{PluginRegistry, PluginSettings};
pub use projects::ProjectService;
pub use snippets::SnippetService;
pub use timeline::TimelineService;

/// Every service, cheap to clone, handed to each transport.
#[derive(Clone)]
pub struct Services {
    pub db: db::Db,
    pub auth: AuthService,
    pub events: events::EventDispatcher,
    pub timeline: TimelineService,
    pub projects: ProjectService,
    pub plugins: PluginRegistry,
    pub snippets: SnippetService,
    pub parsers: ParserService,
    pub files: files::FileService,
    pub chat: ChatService,
}

impl Services {
    pub fn new(
        db: db::Db,
        auth: AuthService,
        plugins: PluginRegistry,
        file_settings: files::FileSettings,
        chat_settings: ChatSettings,
    ) -> Self {
        let timeline = TimelineService::new(db.clone());
        // One hub for everything: the auth service announces ended sessions on it too.
        let events = events::EventDispatcher::new(
            vec![std::sync::Arc::new(timeline.clone())],
            auth.hub().clone(),
        );
        let parsers = ParserService::new(plugins.clone());
        let files =
            files::FileService::new(db.clone(), events.clone(), parsers.clone(), file_settings);
        let snippets = SnippetService::new(plugins.clone());
        let llm = chat::LlmClient::new(chat_settings.llm.clone(), plugins.clone());
        Self {
            chat: ChatService::new(
                db.clone(),
                events.clone(),
                files.clone(),
                snippets.clone(),
                llm,
                chat_settings,
            ),
            files,
            auth,
            projects: ProjectService::new(db.clone(), events.clone()),
            timeline,
            events,
            snippets,
            parsers,
            plugins,
            db,
        }
    }
}
