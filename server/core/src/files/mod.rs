//! Code documents: where uploaded files land in a project and what their bytes are.
//! (The upload, indexing and editing services build on these rules.)

mod content;
mod path;

pub use content::{Content, sniff};
pub use path::{MAX_PATH_BYTES, MAX_SEGMENT_BYTES, normalize_path};
