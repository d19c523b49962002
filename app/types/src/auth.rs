use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ApiError;

pub const EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Long enough for any passphrase, short enough that hashing it is not a denial of service.
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Cookie holding the short-lived access token (HttpOnly).
pub const ACCESS_COOKIE: &str = "kiln_access";
/// Cookie holding the refresh token (HttpOnly; page loads use it to renew a session).
pub const REFRESH_COOKIE: &str = "kiln_refresh";
/// Cookie holding the CSRF token: readable by the page, echoed in [`CSRF_HEADER`].
pub const CSRF_COOKIE: &str = "kiln_csrf";
/// Header carrying the CSRF token on cookie-authenticated state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field carrying the CSRF token when a form is posted without JavaScript.
pub const CSRF_FORM_FIELD: &str = "csrf_token";

/// Body of `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// Never prints the password.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// Trims and lower-cases the email and checks both fields, as registration needs.
    pub fn validated(self) -> Result<Self, ApiError> {
        let email = normalize_email(&self.email);
        validate_email(&email)?;
        validate_new_password("password", &self.password)?;
        Ok(Self {
            email,
            password: self.password,
        })
    }
}

/// Emails compare case-insensitively and without surrounding spaces.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn validate_email(email: &str) -> Result<(), ApiError> {
    let invalid = |message: &str| Err(ApiError::invalid_field("email", message));
    if email.is_empty() {
        return invalid("must not be empty");
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return invalid(&format!("must be at most {EMAIL_MAX_CHARS} characters"));
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return invalid("must be an email address");
    };
    let well_formed = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@');
    if !well_formed {
        return invalid("must be an email address");
    }
    Ok(())
}

/// The password policy: length only (NIST 800-63B), counted in characters.
pub fn validate_new_password(field: &str, password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("must be at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Body of `POST /api/auth/password`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

impl fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChangePassword { <redacted> }")
    }
}

/// Body of `POST /api/auth/refresh` and `POST /api/auth/logout` for API clients;
/// browsers send the refresh cookie instead.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshRequest { <redacted> }")
    }
}

/// Answer of login, register, refresh and password change.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: exchange it at `/api/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub user: User,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("user", &self.user)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An account as its owner sees it (`GET /api/auth/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    /// The first account of an installation administers it.
    pub is_admin: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// What the UI knows about the visitor: who they are and the CSRF token its forms echo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub user: User,
    pub csrf_token: String,
    /// The page renews its access cookie this often (well before it expires).
    pub refresh_after_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn creds(email: &str, password: &str) -> Credentials {
        Credentials {
            email: email.into(),
            password: password.into(),
        }
    }

    #[test]
    fn normalizes_the_email() {
        let ok = creds("  Ada@Example.ORG ", "correct horse").validated();
        assert_eq!(ok.map(|c| c.email), Ok("ada@example.org".into()));
    }

    #[test]
    fn refuses_malformed_emails() {
        for bad in [
            "",
            "ada",
            "@example.org",
            "ada@",
            "ada@org",
            "a da@x.org",
            "a@b@c.org",
        ] {
            let err = creds(bad, "correct horse").validated().unwrap_err();
            assert_eq!(err.kind, ErrorKind::ValidationError, "{bad:?}");
            assert_eq!(err.fields[0].field, "email", "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_checked_by_length_in_characters() {
        assert!(
            creds("a@b.io", &"é".repeat(PASSWORD_MIN_CHARS))
                .validated()
                .is_ok()
        );
        let short = creds("a@b.io", "1234567").validated().unwrap_err();
        assert_eq!(short.fields[0].field, "password");
        let long = "x".repeat(PASSWORD_MAX_CHARS + 1);
        assert!(creds("a@b.io", &long).validated().is_err());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let debug = format!("{:?}", creds("a@b.io", "hunter2hunter2"));
        assert!(!debug.contains("hunter2"), "{debug}");
        let debug = format!(
            "{:?}",
            ChangePassword {
                current_password: "hunter2hunter2".into(),
                new_password: "swordfish1".into()
            }
        );
        assert!(!debug.contains("hunter2") && !debug.contains("swordfish"));
    }
}
