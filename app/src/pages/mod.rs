mod account;
mod admin;
mod auth;
mod project;
mod projects;
mod snippets;

pub use account::AccountPage;
pub use admin::AdminPluginsPage;
pub use auth::{LoginPage, RegisterPage};
pub use project::ProjectPage;
pub use projects::ProjectsPage;
pub use snippets::SnippetsPage;
