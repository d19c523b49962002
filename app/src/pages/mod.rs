mod account;
mod admin;
mod auth;
mod file;
mod files;
mod project;
mod projects;
mod search;
mod snippets;

pub use account::AccountPage;
pub use admin::AdminPluginsPage;
pub use auth::{LoginPage, RegisterPage};
pub use file::FilePage;
pub use files::FilesPage;
pub use project::ProjectPage;
pub use projects::ProjectsPage;
pub use search::SearchPage;
pub use snippets::SnippetsPage;
