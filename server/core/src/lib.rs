//! Kiln's service layer. REST handlers, WebSocket commands and Leptos server functions
//! all call these services; none of them holds business logic of its own.

pub mod access;
pub mod auth;
pub mod db;
mod error;
pub mod markdown;
pub mod migrations;
mod projects;
mod snippets;

pub use auth::{AuthService, Principal};
pub use error::ServiceError;
pub use projects::ProjectService;
pub use snippets::SnippetService;

/// Every service, cheap to clone, handed to each transport.
#[derive(Clone)]
pub struct Services {
    pub db: db::Db,
    pub auth: AuthService,
    pub projects: ProjectService,
    pub snippets: SnippetService,
}

impl Services {
    pub fn new(db: db::Db, auth: AuthService, snippets: SnippetService) -> Self {
        Self {
            auth,
            projects: ProjectService::new(db.clone()),
            snippets,
            db,
        }
    }
}
