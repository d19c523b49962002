//! The stock SurrealDB server (`start --bind … --user … --pass … memory`), built from
//! crates.io so the tests can exercise Kiln against a real remote database.

// SurrealDB's deeply nested async fns need more than the default query depth.
#![recursion_limit = "256"]

fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
