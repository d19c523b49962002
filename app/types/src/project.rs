use serde::{Deserialize, Serialize};

use crate::ApiError;

pub const PROJECT_NAME_MAX_CHARS: usize = 100;
pub const PROJECT_DESCRIPTION_MAX_CHARS: usize = 2000;

/// A project as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    /// Opaque key, stable for the project's lifetime.
    pub id: String,
    pub name: String,
    pub description: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// Input of "create project".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewProject {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl NewProject {
    /// Trims and checks the input; the service layer stores only what this returns.
    pub fn validated(self) -> Result<Self, ApiError> {
        let name = self.name.trim().to_owned();
        let description = self.description.trim().to_owned();
        if name.is_empty() {
            return Err(ApiError::invalid_field("name", "must not be empty"));
        }
        if name.chars().count() > PROJECT_NAME_MAX_CHARS {
            return Err(ApiError::invalid_field(
                "name",
                format!("must be at most {PROJECT_NAME_MAX_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ApiError::invalid_field(
                "name",
                "must not contain control characters",
            ));
        }
        if description.chars().count() > PROJECT_DESCRIPTION_MAX_CHARS {
            return Err(ApiError::invalid_field(
                "description",
                format!("must be at most {PROJECT_DESCRIPTION_MAX_CHARS} characters"),
            ));
        }
        Ok(Self { name, description })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn new(name: &str) -> NewProject {
        NewProject {
            name: name.into(),
            description: String::new(),
        }
    }

    #[test]
    fn trims_the_name() {
        assert_eq!(
            new("  Kiln  ").validated().map(|p| p.name),
            Ok("Kiln".into())
        );
    }

    #[test]
    fn refuses_blank_long_and_control_names() {
        for bad in [
            "",
            "   ",
            &"x".repeat(PROJECT_NAME_MAX_CHARS + 1),
            "a\u{0}b",
        ] {
            let err = new(bad).validated().unwrap_err();
            assert_eq!(err.kind, ErrorKind::ValidationError, "{bad:?}");
            assert_eq!(err.fields[0].field, "name");
        }
    }

    #[test]
    fn accepts_a_name_of_exactly_the_maximum_length_in_characters() {
        let name = "é".repeat(PROJECT_NAME_MAX_CHARS);
        assert!(new(&name).validated().is_ok());
    }
}
