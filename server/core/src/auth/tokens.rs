//! Access tokens: short-lived HS256 JWTs signed with one of several rotating keys.

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::Principal;

const ISSUER: &str = "kiln";
/// HS256 keys shorter than the hash output weaken the signature.
pub const MIN_SECRET_BYTES: usize = 32;

/// One signing key. `kid` names it in every token it signs, so a rotated key keeps
/// verifying the tokens it issued until they expire.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey {{ kid: {:?}, secret: <redacted> }}",
            self.kid
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("no signing keys are configured")]
    NoKeys,
    #[error("signing key {0:?} is shorter than {MIN_SECRET_BYTES} bytes")]
    TooShort(String),
    #[error("signing key id {0:?} is used twice")]
    DuplicateKid(String),
    #[error("signing key ids must be 1-64 characters of [A-Za-z0-9._-], not {0:?}")]
    BadKid(String),
    #[error("the active signing key {0:?} is not among the configured keys")]
    UnknownActive(String),
}

/// Why a presented access token was refused. Only logged: clients see "unauthorized".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token is malformed")]
    Malformed,
    #[error("token names an unknown key")]
    UnknownKey,
    #[error("token has expired")]
    Expired,
    #[error("token signature or claims are invalid")]
    Invalid,
    #[error("the token's session has ended")]
    Revoked,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessClaims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
    /// Administrator of the installation.
    adm: bool,
    /// The session (refresh-token family) the token belongs to.
    sid: String,
    /// The session's CSRF token: a cookie-authenticated mutation must echo it.
    csrf: String,
}

/// Issues and verifies access tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenSigner {
    inner: Arc<Inner>,
}

struct Inner {
    active_kid: String,
    active: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    ttl: Duration,
}

impl TokenSigner {
    /// `keys` in any order; `active_kid` signs, every key verifies.
    pub fn new(keys: &[SigningKey], active_kid: &str, ttl: Duration) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::NoKeys);
        }
        let mut verifying = HashMap::new();
        for key in keys {
            let kid_ok = !key.kid.is_empty()
                && key.kid.len() <= 64
                && key
                    .kid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !kid_ok {
                return Err(KeyError::BadKid(key.kid.clone()));
            }
            if key.secret.len() < MIN_SECRET_BYTES {
                return Err(KeyError::TooShort(key.kid.clone()));
            }
            let previous = verifying.insert(key.kid.clone(), DecodingKey::from_secret(&key.secret));
            if previous.is_some() {
                return Err(KeyError::DuplicateKid(key.kid.clone()));
            }
        }
        let active = keys
            .iter()
            .find(|key| key.kid == active_kid)
            .ok_or_else(|| KeyError::UnknownActive(active_kid.to_owned()))?;
        // Only HS256 is accepted: `alg: none` and algorithm confusion are refused
        // before the signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            inner: Arc::new(Inner {
                active_kid: active.kid.clone(),
                active: EncodingKey::from_secret(&active.secret),
                verifying,
                validation,
                ttl,
            }),
        })
    }

    /// Lifetime of the tokens this signer issues.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    pub fn issue(&self, principal: &Principal) -> Result<String, jsonwebtoken::errors::Error> {
        let now = unix_now();
        let claims = AccessClaims {
            sub: principal.user_id.clone(),
            iss: ISSUER.into(),
            iat: now,
            exp: principal.expires_at,
            adm: principal.is_admin,
            sid: principal.session_id.clone(),
            csrf: principal.csrf_token.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.inner.active_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.inner.active)
    }

    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.inner.verifying.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.inner.validation)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        Ok(Principal {
            user_id: data.claims.sub,
            is_admin: data.claims.adm,
            session_id: data.claims.sid,
            csrf_token: data.claims.csrf,
            expires_at: data.claims.exp,
        })
    }
}

pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn key(kid: &str, byte: u8) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            secret: vec![byte; 32],
        }
    }

    fn alice() -> Principal {
        Principal {
            user_id: "alice".into(),
            is_admin: false,
            session_id: "s".into(),
            csrf_token: "c".into(),
            expires_at: unix_now() + 900,
        }
    }

    fn signer(keys: &[SigningKey], active: &str) -> TokenSigner {
        TokenSigner::new(keys, active, Duration::from_secs(900)).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_token_round_trips() {
        let signer = signer(&[key("k1", 1)], "k1");
        let token = signer.issue(&alice()).unwrap();
        assert_eq!(signer.verify(&token), Ok(alice()));
    }

    #[test]
    fn a_rotated_key_still_verifies_the_tokens_it_signed() {
        let old = signer(&[key("k1", 1)], "k1");
        let old_token = old.issue(&alice()).unwrap();
        let rotated = signer(&[key("k2", 2), key("k1", 1)], "k2");
        assert_eq!(rotated.verify(&old_token), Ok(alice()));
        let new_token = rotated.issue(&alice()).unwrap();
        assert_eq!(rotated.verify(&new_token), Ok(alice()));
        // Once k1 is retired its tokens stop working.
        let retired = signer(&[key("k2", 2)], "k2");
        assert_eq!(retired.verify(&old_token), Err(TokenError::UnknownKey));
        assert_eq!(retired.verify(&new_token), Ok(alice()));
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let signer = signer(&[key("k1", 1)], "k1");
        let token = signer.issue(&alice()).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        // Become admin by editing the payload.
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&parts[1])
            .unwrap();
        let forged = String::from_utf8(payload)
            .unwrap()
            .replace("\"adm\":false", "\"adm\":true");
        parts[1] = b64(forged.as_bytes());
        assert_eq!(signer.verify(&parts.join(".")), Err(TokenError::Invalid));
        // A token signed with another secret under a known kid.
        let impostor = self::signer(&[key("k1", 9)], "k1").issue(&alice()).unwrap();
        assert_eq!(signer.verify(&impostor), Err(TokenError::Invalid));
        assert_eq!(signer.verify("not a token"), Err(TokenError::Malformed));
    }

    #[test]
    fn alg_none_and_unknown_kids_are_refused() {
        let signer = signer(&[key("k1", 1)], "k1");
        let claims = format!(
            r#"{{"sub":"alice","iss":"kiln","iat":1,"exp":{},"adm":true,"sid":"s","csrf":"c"}}"#,
            unix_now() + 600
        );
        let none = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
            b64(claims.as_bytes())
        );
        assert!(signer.verify(&none).is_err());
        let unknown = self::signer(&[key("k9", 1)], "k9").issue(&alice()).unwrap();
        assert_eq!(signer.verify(&unknown), Err(TokenError::UnknownKey));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let keys = [key("k1", 1)];
        let signer = signer(&keys, "k1");
        let claims = AccessClaims {
            sub: "alice".into(),
            iss: ISSUER.into(),
            iat: unix_now() - 3600,
            exp: unix_now() - 60,
            adm: false,
            sid: "s".into(),
            csrf: "c".into(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&keys[0].secret))
                .unwrap();
        assert_eq!(signer.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn weak_or_inconsistent_key_sets_are_refused() {
        let ttl = Duration::from_secs(1);
        let short = SigningKey {
            kid: "k".into(),
            secret: b"changeme".to_vec(),
        };
        assert_eq!(
            TokenSigner::new(&[short], "k", ttl).err(),
            Some(KeyError::TooShort("k".into()))
        );
        assert_eq!(
            TokenSigner::new(&[], "k", ttl).err(),
            Some(KeyError::NoKeys)
        );
        assert!(TokenSigner::new(&[key("a", 1), key("a", 2)], "a", ttl).is_err());
        assert!(TokenSigner::new(&[key("a", 1)], "b", ttl).is_err());
        assert!(TokenSigner::new(&[key("a b", 1)], "a b", ttl).is_err());
    }
}
