use serde::{Deserialize, Serialize};

use crate::ApiError;

pub const PROJECT_NAME_MAX_CHARS: usize = 100;
pub const PROJECT_DESCRIPTION_MAX_CHARS: usize = 2000;

pub const PROJECT_SETTING_MAX_CHARS: usize = 4000;

/// A project as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    /// Opaque key, stable for the project's lifetime.
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub settings: ProjectSettings,
    pub stats: ProjectStats,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC: the last change to the project or anything in it.
    pub last_activity_at: String,
}

/// Where a project is in its life. Moves: active ⇄ paused, active/paused → archived,
/// archived → active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Active,
    Paused,
    Archived,
}

impl ProjectStatus {
    pub const ALL: [Self; 3] = [Self::Active, Self::Paused, Self::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Archived => "archived",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// The statuses a project in this one may move to.
    pub fn next(self) -> &'static [Self] {
        match self {
            Self::Active => &[Self::Paused, Self::Archived],
            Self::Paused => &[Self::Active, Self::Archived],
            Self::Archived => &[Self::Active],
        }
    }

    pub fn can_move_to(self, to: Self) -> bool {
        self.next().contains(&to)
    }
}

/// Per-project preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectSettings {
    /// The LLM model chats in this project use; the server default when unset.
    #[serde(default)]
    pub model: Option<String>,
    /// Extra instructions given to the LLM in every chat of this project.
    #[serde(default)]
    pub instructions: String,
}

impl ProjectSettings {
    pub fn validated(self) -> Result<Self, ApiError> {
        let model = self
            .model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if model
            .as_ref()
            .is_some_and(|m| m.chars().count() > 200 || m.chars().any(char::is_control))
        {
            return Err(ApiError::invalid_field(
                "settings.model",
                "must be a model name of at most 200 characters",
            ));
        }
        let instructions = self.instructions.trim().to_owned();
        if instructions.chars().count() > PROJECT_SETTING_MAX_CHARS {
            return Err(ApiError::invalid_field(
                "settings.instructions",
                format!("must be at most {PROJECT_SETTING_MAX_CHARS} characters"),
            ));
        }
        Ok(Self {
            model,
            instructions,
        })
    }
}

/// Counters kept on the project as things happen in it (never computed by scanning).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectStats {
    pub file_count: u64,
    pub total_bytes: u64,
    pub total_lines: u64,
    /// Files per language.
    pub languages: std::collections::BTreeMap<String, u64>,
    pub thread_count: u64,
    pub message_count: u64,
    /// RFC 3339, UTC; `null` before the first chat message.
    pub last_chat_at: Option<String>,
}

/// Body of `PATCH /api/projects/{project_id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub settings: Option<SettingsPatch>,
}

/// The settings fields to change; absent ones stay as they are. An empty `model`
/// goes back to the server's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub instructions: Option<String>,
}

impl SettingsPatch {
    /// `current` with this patch applied, validated.
    pub fn apply(self, current: &ProjectSettings) -> Result<ProjectSettings, ApiError> {
        ProjectSettings {
            model: match self.model {
                Some(model) => Some(model),
                None => current.model.clone(),
            },
            instructions: self
                .instructions
                .unwrap_or_else(|| current.instructions.clone()),
        }
        .validated()
    }
}

impl ProjectPatch {
    pub fn validated(self) -> Result<Self, ApiError> {
        let name = self.name.map(|name| validate_name(&name)).transpose()?;
        let description = self
            .description
            .map(|d| validate_description(&d))
            .transpose()?;
        let settings = self.settings;
        Ok(Self {
            name,
            description,
            settings,
        })
    }
}

/// Body of `POST /api/projects/{project_id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    pub status: ProjectStatus,
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
        Ok(Self {
            name: validate_name(&self.name)?,
            description: validate_description(&self.description)?,
        })
    }
}

fn validate_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim().to_owned();
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
    Ok(name)
}

fn validate_description(description: &str) -> Result<String, ApiError> {
    let description = description.trim().to_owned();
    if description.chars().count() > PROJECT_DESCRIPTION_MAX_CHARS {
        return Err(ApiError::invalid_field(
            "description",
            format!("must be at most {PROJECT_DESCRIPTION_MAX_CHARS} characters"),
        ));
    }
    Ok(description)
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
