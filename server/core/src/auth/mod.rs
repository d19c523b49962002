//! Accounts and sessions: registration, login, rotating refresh tokens, password changes.
//!
//! A session is a *family* of refresh tokens: each refresh spends the presented token
//! and issues its successor. Presenting a spent token again within a few seconds of
//! its first use is ordinary concurrency and gets a successor too
//! ([`refresh::REUSE_GRACE`]); later, it means the token was stolen (or replayed), so
//! the whole family is revoked and both holders must log in again.

pub mod cookies;
mod password;
mod refresh;
mod renewals;
mod revoked;
pub mod tokens;

use std::{fmt, str::FromStr, time::Duration};

use base64::Engine;
use kiln_types::{ChangePassword, Credentials, TokenResponse, User, normalize_email};

pub use refresh::RefreshStore;
pub use tokens::{KeyError, SigningKey, TokenError, TokenSigner};

use crate::{
    ServiceError,
    db::Db,
    error::Conflict,
    hub::EventHub,
    store::{
        DbError, codes,
        users::{self, EMAIL_INDEX, UserRow},
    },
};

/// Who is making a request, as proven by a verified access token.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub is_admin: bool,
    /// The login session (refresh-token family) this access token belongs to.
    pub session_id: String,
    /// The session's CSRF token (see [`kiln_types::CSRF_HEADER`]).
    pub csrf_token: String,
    /// When the access token expires, in seconds since the Unix epoch: a long-lived
    /// connection authorised by it must re-check the session then.
    pub expires_at: u64,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("user_id", &self.user_id)
            .field("is_admin", &self.is_admin)
            .finish_non_exhaustive()
    }
}

/// Who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationPolicy {
    Open,
    Closed,
    /// Only the first account (a single-user installation).
    FirstUserOnly,
}

impl FromStr for RegistrationPolicy {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            "first-user-only" => Ok(Self::FirstUserOnly),
            other => Err(format!(
                "registration must be open, closed or first-user-only, not {other:?}"
            )),
        }
    }
}

/// A freshly issued token pair with the facts a transport needs to set cookies.
#[derive(Clone)]
pub struct Session {
    pub user: User,
    pub principal: Principal,
    pub access_token: String,
    pub refresh_token: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The body API clients receive.
    pub fn token_response(&self) -> TokenResponse {
        TokenResponse {
            access_token: self.access_token.clone(),
            token_type: "bearer".into(),
            expires_in: self.access_ttl.as_secs(),
            refresh_token: self.refresh_token.clone(),
            user: self.user.clone(),
        }
    }
}

impl UserRow {
    fn user(&self) -> User {
        User {
            id: self.id.clone(),
            email: self.email.clone(),
            is_admin: self.is_admin,
            created_at: self.created_at.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService {
    db: Db,
    signer: TokenSigner,
    refresh: RefreshStore,
    revoked: revoked::RevokedSessions,
    renewals: renewals::Renewals,
    policy: RegistrationPolicy,
    hub: EventHub,
}

fn invalid_credentials() -> ServiceError {
    ServiceError::Unauthorized("invalid email or password".into())
}

impl AuthService {
    pub fn new(
        db: Db,
        signer: TokenSigner,
        refresh_ttl: Duration,
        policy: RegistrationPolicy,
        hub: EventHub,
    ) -> Self {
        let revoked = revoked::RevokedSessions::new(signer.ttl(), hub.clone());
        Self {
            refresh: RefreshStore::new(db.clone(), refresh_ttl, revoked.clone()),
            revoked,
            renewals: renewals::Renewals::default(),
            db,
            signer,
            policy,
            hub,
        }
    }

    pub fn signer(&self) -> &TokenSigner {
        &self.signer
    }

    /// The hub this service announces ended sessions on (`session_ended` to
    /// [`Topic::Session`](crate::hub::Topic::Session)); the other services publish to
    /// the same one.
    pub fn hub(&self) -> &EventHub {
        &self.hub
    }

    /// Creates an account and logs it in. The first account administers the installation
    /// and adopts projects created before accounts existed.
    pub async fn register(&self, credentials: Credentials) -> Result<Session, ServiceError> {
        let credentials = credentials.validated()?;
        let closed = match self.policy {
            RegistrationPolicy::Open => false,
            RegistrationPolicy::Closed => true,
            // Checked again inside the transaction below; this saves the hashing.
            RegistrationPolicy::FirstUserOnly => self.user_count().await? > 0,
        };
        if closed {
            return Err(ServiceError::Forbidden("registration is closed".into()));
        }
        let password_hash = password::hash(credentials.password).await?;
        // One transaction, and the first account claims the singleton
        // `installation:admin`: of two registrations racing to be first, one fails
        // instead of both becoming administrators.
        let first_only = self.policy == RegistrationPolicy::FirstUserOnly;
        let created =
            users::register(&self.db, &credentials.email, &password_hash, first_only).await;
        let row = match created {
            Ok(row) => row,
            Err(error) if error.is_unique(EMAIL_INDEX) => {
                return Err(Conflict::AlreadyExists(
                    "an account with this email already exists".into(),
                )
                .into());
            }
            // `installation:admin` exists: someone else became the first account.
            Err(error)
                if error.is_thrown(codes::REGISTRATION_CLOSED)
                    || (first_only && matches!(error, DbError::RecordExists)) =>
            {
                return Err(ServiceError::Forbidden("registration is closed".into()));
            }
            Err(DbError::RecordExists) => {
                return Err(Conflict::Concurrent(
                    "another account was registered at the same moment; try again".into(),
                )
                .into());
            }
            Err(error) => return Err(error.into()),
        };
        let row = row.ok_or_else(|| ServiceError::Internal("created user not returned".into()))?;
        tracing::info!(user = %row.id, admin = row.is_admin, "account registered");
        self.start_session(row.user()).await
    }

    pub async fn login(&self, credentials: Credentials) -> Result<Session, ServiceError> {
        let email = normalize_email(&credentials.email);
        if email.is_empty() || credentials.password.is_empty() {
            return Err(invalid_credentials());
        }
        if credentials.password.chars().count() > kiln_types::PASSWORD_MAX_CHARS {
            return Err(invalid_credentials());
        }
        let row = self.user_by_email(&email).await?;
        let stored = row.as_ref().and_then(|row| row.password_hash.clone());
        let matches = password::verify(credentials.password, stored).await?;
        match row {
            Some(row) if matches => {
                tracing::info!(user = %row.id, "logged in");
                self.start_session(row.user()).await
            }
            _ => {
                tracing::info!("login refused");
                Err(invalid_credentials())
            }
        }
    }

    /// Spends `refresh_token` and issues its successor. A browser (cookie) refresh must
    /// also present the session's CSRF token.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        csrf_token: Option<&str>,
    ) -> Result<Session, ServiceError> {
        let spent = self.refresh.spend(refresh_token, csrf_token).await?;
        let row = self
            .user_row(&spent.user_id)
            .await?
            .ok_or_else(|| ServiceError::Unauthorized("the account no longer exists".into()))?;
        let refresh_token = self
            .refresh
            .issue(&spent.user_id, &spent.family, &spent.csrf_token)
            .await?;
        self.session(row.user(), spent.family, refresh_token, spent.csrf_token)
    }

    /// A browser's renewal: like [`Self::refresh`], but requests presenting the same
    /// refresh token within a short window share one rotation (see `renewals`).
    pub async fn renew(
        &self,
        refresh_token: &str,
        csrf_token: Option<&str>,
    ) -> Result<Session, ServiceError> {
        if let Some(csrf_token) = csrf_token {
            self.refresh.check_csrf(refresh_token, csrf_token).await?;
        }
        let slot = self.renewals.slot(refresh_token);
        let (auth, token) = (self.clone(), refresh_token.to_owned());
        // Spawned: a caller that goes away mid-rotation must not leave the token spent
        // and its successor lost (the next tab would then look like a replay).
        let session = tokio::spawn(async move {
            slot.get_or_try_init(|| auth.refresh(&token, None))
                .await
                .cloned()
        })
        .await
        .map_err(|error| ServiceError::Internal(format!("session renewal task: {error}")))??;
        if self.revoked.contains(&session.principal.session_id) {
            return Err(ServiceError::Unauthorized(
                "the session has ended; log in again".into(),
            ));
        }
        Ok(session)
    }

    /// Ends the session `refresh_token` belongs to. Unknown tokens are ignored:
    /// logging out twice is not an error.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), ServiceError> {
        self.refresh.revoke_family_of(refresh_token).await
    }

    /// Ends the session an access token belongs to (an API client logging out with
    /// only its bearer token).
    pub async fn end_session(&self, principal: &Principal) -> Result<(), ServiceError> {
        self.refresh.revoke_family(&principal.session_id).await
    }

    pub async fn me(&self, principal: &Principal) -> Result<User, ServiceError> {
        self.user_row(&principal.user_id)
            .await?
            .map(|row| row.user())
            .ok_or_else(|| ServiceError::Unauthorized("the account no longer exists".into()))
    }

    /// Checks the current password, stores the new one, ends every session of the
    /// account (refresh tokens, and access tokens on this server) and starts a fresh
    /// one for the caller.
    pub async fn change_password(
        &self,
        principal: &Principal,
        change: ChangePassword,
    ) -> Result<Session, ServiceError> {
        kiln_types::validate_new_password("new_password", &change.new_password)?;
        let row = self
            .user_row(&principal.user_id)
            .await?
            .ok_or_else(|| ServiceError::Unauthorized("the account no longer exists".into()))?;
        if !password::verify(change.current_password, row.password_hash.clone()).await? {
            return Err(ServiceError::invalid_field(
                "current_password",
                "is incorrect",
            ));
        }
        let hash = password::hash(change.new_password).await?;
        users::set_password_hash(&self.db, &row.id, &hash).await?;
        self.refresh.revoke_user(&row.id).await?;
        tracing::info!(user = %row.id, "password changed; other sessions ended");
        self.start_session(row.user()).await
    }

    /// Verifies an access token (see [`TokenSigner::verify`]) and that its session
    /// has not been ended on this server.
    pub fn verify_access_token(&self, token: &str) -> Result<Principal, TokenError> {
        let principal = self.signer.verify(token)?;
        if self.revoked.contains(&principal.session_id) {
            return Err(TokenError::Revoked);
        }
        Ok(principal)
    }

    async fn start_session(&self, user: User) -> Result<Session, ServiceError> {
        let family = random_token::<16>()?;
        let csrf_token = random_token::<32>()?;
        let refresh_token = self.refresh.issue(&user.id, &family, &csrf_token).await?;
        self.session(user, family, refresh_token, csrf_token)
    }

    fn session(
        &self,
        user: User,
        session_id: String,
        refresh_token: String,
        csrf_token: String,
    ) -> Result<Session, ServiceError> {
        let principal = Principal {
            user_id: user.id.clone(),
            is_admin: user.is_admin,
            session_id,
            csrf_token,
            expires_at: tokens::unix_now() + self.signer.ttl().as_secs(),
        };
        let access_token = self
            .signer
            .issue(&principal)
            .map_err(|error| ServiceError::Internal(format!("signing an access token: {error}")))?;
        Ok(Session {
            user,
            principal,
            access_token,
            refresh_token,
            access_ttl: self.signer.ttl(),
            refresh_ttl: self.refresh.ttl(),
        })
    }

    async fn user_count(&self) -> Result<usize, ServiceError> {
        Ok(usize::from(users::any(&self.db).await?))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, ServiceError> {
        Ok(users::by_email(&self.db, email).await?)
    }

    async fn user_row(&self, id: &str) -> Result<Option<UserRow>, ServiceError> {
        Ok(users::by_id(&self.db, id).await?)
    }
}

/// `N` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes)
        .map_err(|error| ServiceError::Internal(format!("no randomness: {error}")))?;
    Ok(bytes)
}

/// `N` random bytes as URL-safe base64 without padding.
pub(crate) fn random_token<const N: usize>() -> Result<String, ServiceError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>()?))
}

#[cfg(test)]
mod tests {
    use kiln_types::ErrorKind;

    use super::*;
    use crate::db::{DbConfig, connect};

    async fn service(policy: RegistrationPolicy) -> AuthService {
        let db = connect(&DbConfig::memory()).await.unwrap();
        crate::migrations::prepare(&db).await.unwrap();
        let key = SigningKey {
            kid: "k1".into(),
            secret: vec![1; 32],
        };
        let signer = TokenSigner::new(&[key], "k1", Duration::from_secs(900)).unwrap();
        AuthService::new(
            db,
            signer,
            Duration::from_secs(3600),
            policy,
            EventHub::default(),
        )
    }

    fn creds(email: &str) -> Credentials {
        Credentials {
            email: email.into(),
            password: "correct horse battery".into(),
        }
    }

    fn kind(error: ServiceError) -> ErrorKind {
        error.to_api_error().kind
    }

    #[tokio::test]
    async fn the_first_account_is_admin_and_emails_are_unique() {
        let auth = service(RegistrationPolicy::Open).await;
        let first = auth.register(creds("Ada@Example.org")).await.unwrap();
        assert!(first.user.is_admin);
        assert_eq!(first.user.email, "ada@example.org");
        let second = auth.register(creds("bob@example.org")).await.unwrap();
        assert!(!second.user.is_admin);
        let dup = auth.register(creds("ADA@example.org")).await.unwrap_err();
        assert_eq!(kind(dup), ErrorKind::Conflict);
        let principal = auth.verify_access_token(&second.access_token).unwrap();
        assert_eq!(auth.me(&principal).await.unwrap(), second.user);
    }

    #[tokio::test]
    async fn of_registrations_racing_to_be_first_only_one_becomes_admin() {
        let auth = service(RegistrationPolicy::Open).await;
        let (a, b, c) = tokio::join!(
            auth.register(creds("a@example.org")),
            auth.register(creds("b@example.org")),
            auth.register(creds("c@example.org")),
        );
        let admins = [a, b, c]
            .into_iter()
            .filter_map(Result::ok)
            .filter(|session| session.user.is_admin)
            .count();
        assert_eq!(admins, 1);
        let single = service(RegistrationPolicy::FirstUserOnly).await;
        let (a, b) = tokio::join!(
            single.register(creds("a@example.org")),
            single.register(creds("b@example.org")),
        );
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "exactly one account");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn simultaneous_registrations_all_succeed() {
        let auth = service(RegistrationPolicy::Open).await;
        auth.register(creds("first@example.org")).await.unwrap();
        let mut registrations = tokio::task::JoinSet::new();
        for i in 0..6 {
            let auth = auth.clone();
            registrations
                .spawn(async move { auth.register(creds(&format!("u{i}@example.org"))).await });
        }
        for result in registrations.join_all().await {
            let session = result.unwrap();
            assert!(!session.user.is_admin);
        }
    }

    #[tokio::test]
    async fn ended_sessions_stop_their_access_tokens_at_once() {
        let auth = service(RegistrationPolicy::Open).await;
        let laptop = auth.register(creds("a@example.org")).await.unwrap();
        let phone = auth.login(creds("a@example.org")).await.unwrap();
        assert!(auth.verify_access_token(&phone.access_token).is_ok());
        auth.end_session(&phone.principal).await.unwrap();
        assert_eq!(
            auth.verify_access_token(&phone.access_token),
            Err(TokenError::Revoked)
        );
        assert!(auth.verify_access_token(&laptop.access_token).is_ok());
    }

    #[tokio::test]
    async fn ending_a_session_is_announced_to_its_topic_and_tokens_say_when_they_expire() {
        use crate::hub::Topic;

        let auth = service(RegistrationPolicy::Open).await;
        let laptop = auth.register(creds("a@example.org")).await.unwrap();
        let principal = auth.verify_access_token(&laptop.access_token).unwrap();
        let now = tokens::unix_now();
        assert!(
            (now + 890..=now + 900).contains(&principal.expires_at),
            "{} is not 15 minutes after {now}",
            principal.expires_at
        );
        let mut ended = auth
            .hub()
            .subscribe(&Topic::Session(principal.session_id.clone()));
        let mut elsewhere = auth.hub().subscribe(&Topic::Session("another".into()));

        // A replayed refresh token ends the session as surely as a logout.
        let next = auth.refresh(&laptop.refresh_token, None).await.unwrap();
        spent_long_ago(&auth).await;
        auth.refresh(&laptop.refresh_token, None).await.unwrap_err();
        let message = ended.try_recv().expect("session_ended announced");
        assert_eq!(message.kind, "session_ended");
        let body: serde_json::Value = serde_json::from_str(&message.json).unwrap();
        assert_eq!(body["type"], "session_ended");
        assert_eq!(body["session_id"], principal.session_id.as_str());
        assert!(elsewhere.try_recv().is_err());
        assert!(auth.refresh(&next.refresh_token, None).await.is_err());
    }

    #[tokio::test]
    async fn concurrent_browser_renewals_share_one_rotation() {
        let auth = service(RegistrationPolicy::Open).await;
        let login = auth.register(creds("a@example.org")).await.unwrap();
        let token = login.refresh_token.as_str();
        let csrf = Some(login.principal.csrf_token.as_str());
        let (a, b, c) = tokio::join!(
            auth.renew(token, csrf),
            auth.renew(token, csrf),
            auth.renew(token, None),
        );
        let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
        assert_eq!(a.refresh_token, b.refresh_token);
        assert_eq!(b.refresh_token, c.refresh_token);
        assert_ne!(a.refresh_token, login.refresh_token);
        // The shared successor is alive; a wrong CSRF token is still refused.
        assert!(auth.renew(&a.refresh_token, Some("guess")).await.is_err());
        assert!(auth.refresh(&a.refresh_token, None).await.is_ok());
        // After logout the old token no longer renews, even inside the sharing window.
        auth.end_session(&a.principal).await.unwrap();
        assert!(auth.renew(token, None).await.is_err());
    }

    #[tokio::test]
    async fn registration_policies_are_enforced() {
        let closed = service(RegistrationPolicy::Closed).await;
        let refused = closed.register(creds("a@example.org")).await.unwrap_err();
        assert_eq!(kind(refused), ErrorKind::Forbidden);
        let single = service(RegistrationPolicy::FirstUserOnly).await;
        single.register(creds("a@example.org")).await.unwrap();
        let refused = single.register(creds("b@example.org")).await.unwrap_err();
        assert_eq!(kind(refused), ErrorKind::Forbidden);
    }

    #[tokio::test]
    async fn login_refuses_wrong_passwords_and_unknown_emails_alike() {
        let auth = service(RegistrationPolicy::Open).await;
        auth.register(creds("a@example.org")).await.unwrap();
        assert!(auth.login(creds(" A@example.org ")).await.is_ok());
        let wrong = Credentials {
            password: "wrong password".into(),
            ..creds("a@example.org")
        };
        let wrong = auth.login(wrong).await.unwrap_err();
        let unknown = auth.login(creds("x@example.org")).await.unwrap_err();
        assert_eq!(wrong.to_api_error(), unknown.to_api_error());
        assert_eq!(kind(wrong), ErrorKind::Unauthorized);
    }

    #[tokio::test]
    async fn refresh_rotates_and_a_replayed_token_revokes_the_family() {
        let auth = service(RegistrationPolicy::Open).await;
        let login = auth.register(creds("a@example.org")).await.unwrap();
        let next = auth.refresh(&login.refresh_token, None).await.unwrap();
        assert_ne!(next.refresh_token, login.refresh_token);
        assert_eq!(next.principal.csrf_token, login.principal.csrf_token);
        spent_long_ago(&auth).await;
        // The first token is spent: presenting it again ends the whole session…
        let replay = auth.refresh(&login.refresh_token, None).await.unwrap_err();
        assert_eq!(kind(replay), ErrorKind::Unauthorized);
        // …including the legitimate successor.
        let successor = auth.refresh(&next.refresh_token, None).await.unwrap_err();
        assert_eq!(kind(successor), ErrorKind::Unauthorized);
        // Other sessions of the same user are untouched.
        let other = auth.login(creds("a@example.org")).await.unwrap();
        assert!(auth.refresh(&other.refresh_token, None).await.is_ok());
    }

    /// Moves every spent token's use out of the reuse grace window.
    async fn spent_long_ago(auth: &AuthService) {
        auth.db
            .query("UPDATE refresh_token SET used_at = time::now() - 1h WHERE used_at != NONE")
            .await
            .unwrap()
            .check()
            .unwrap();
    }

    #[tokio::test]
    async fn concurrent_refreshes_with_one_token_both_continue_the_session() {
        let auth = service(RegistrationPolicy::Open).await;
        let login = auth.register(creds("a@example.org")).await.unwrap();
        let token = login.refresh_token.as_str();
        for _ in 0..3 {
            let (a, b) = tokio::join!(auth.refresh(token, None), auth.refresh(token, None));
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_ne!(a.refresh_token, b.refresh_token, "each gets a successor");
            assert_eq!(
                a.principal.session_id, b.principal.session_id,
                "one session"
            );
            assert!(auth.verify_access_token(&a.access_token).is_ok());
            assert!(auth.refresh(&b.refresh_token, None).await.is_ok());
        }
        // A retry after a lost response, a moment later, is no replay either…
        let next = auth.refresh(token, None).await.unwrap();
        // …but long after the rotation it is, and it ends the session.
        spent_long_ago(&auth).await;
        assert_eq!(
            kind(auth.refresh(token, None).await.unwrap_err()),
            ErrorKind::Unauthorized
        );
        assert!(auth.refresh(&next.refresh_token, None).await.is_err());
    }

    #[tokio::test]
    async fn a_browser_refresh_needs_the_session_csrf_token() {
        let auth = service(RegistrationPolicy::Open).await;
        let login = auth.register(creds("a@example.org")).await.unwrap();
        let forged = auth
            .refresh(&login.refresh_token, Some("guess"))
            .await
            .unwrap_err();
        assert_eq!(kind(forged), ErrorKind::Forbidden);
        assert!(
            auth.refresh(&login.refresh_token, Some(&login.principal.csrf_token))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn logout_and_password_changes_end_sessions() {
        let auth = service(RegistrationPolicy::Open).await;
        let first = auth.register(creds("a@example.org")).await.unwrap();
        auth.logout(&first.refresh_token).await.unwrap();
        auth.logout("not a token").await.unwrap();
        assert!(auth.refresh(&first.refresh_token, None).await.is_err());

        let phone = auth.login(creds("a@example.org")).await.unwrap();
        let laptop = auth.login(creds("a@example.org")).await.unwrap();
        let principal = auth.verify_access_token(&laptop.access_token).unwrap();
        let wrong = ChangePassword {
            current_password: "nope nope".into(),
            new_password: "a new passphrase".into(),
        };
        let wrong = auth.change_password(&principal, wrong).await.unwrap_err();
        assert_eq!(kind(wrong), ErrorKind::ValidationError);
        let change = ChangePassword {
            current_password: "correct horse battery".into(),
            new_password: "a new passphrase".into(),
        };
        let fresh = auth.change_password(&principal, change).await.unwrap();
        assert!(auth.refresh(&phone.refresh_token, None).await.is_err());
        assert!(auth.refresh(&fresh.refresh_token, None).await.is_ok());
        assert!(auth.login(creds("a@example.org")).await.is_err());
        let new_login = Credentials {
            password: "a new passphrase".into(),
            ..creds("a@example.org")
        };
        assert!(auth.login(new_login).await.is_ok());
    }
}
