//! Kiln's service layer. REST handlers, WebSocket commands and Leptos server functions
//! all call these services; none of them holds business logic of its own.

pub mod db;
mod error;
pub mod migrations;
mod projects;
mod snippets;

pub use error::ServiceError;
pub use projects::ProjectService;
pub use snippets::SnippetService;

/// Every service, cheap to clone, handed to each transport.
#[derive(Clone)]
pub struct Services {
    pub db: db::Db,
    pub projects: ProjectService,
    pub snippets: SnippetService,
}

impl Services {
    pub fn new(db: db::Db, snippets: SnippetService) -> Self {
        Self {
            projects: ProjectService::new(db.clone()),
            snippets,
            db,
        }
    }
}
