//! Identifiers as their own types, so a project id cannot be passed where a file id is
//! expected. On the wire each is the plain record key (`"k3x9…"`), never SurrealDB's
//! `table:key` object.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident,)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(key: impl Into<String>) -> Self {
                Self(key.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    )*};
}

ids! {
    /// An account (`user` record key).
    UserId,
    /// A project (`project` record key).
    ProjectId,
    /// A file of a project (`file` record key).
    FileId,
    /// A chat thread (`thread` record key).
    ThreadId,
    /// A message of a thread (`message` record key).
    MessageId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_strings_on_the_wire() {
        let id = ProjectId::new("k3x9");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"k3x9\"");
        assert_eq!(serde_json::from_str::<ProjectId>("\"k3x9\"").unwrap(), id);
        assert_eq!(id.to_string(), "k3x9");
    }
}
