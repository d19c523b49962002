//! Kiln's integration tests, linked into one test binary (each file used to be its
//! own, and each linked the whole server): the in-process router with a real
//! SurrealDB (`support::app::TestApp`), and real `kiln` processes (`support::serve`).

mod support;

mod auth;
mod authorization;
mod chat;
mod cli;
mod engines;
mod files;
mod http;
mod import;
mod indexing;
mod names;
mod outlines;
mod plugin_cli;
mod plugins;
mod projects;
mod remote_db;
