mod projects;
mod snippets;

pub use projects::ProjectsPage;
pub use snippets::SnippetsPage;
