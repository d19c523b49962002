//! Route policies: who may call a route, how large its body may be and which rate
//! limit it counts against — declared where the route is registered, never in a path
//! list beside it. The [`RouteTable`] holds every route of the router with its policy
//! (REST routes, server functions, pages, and later WebSockets); the middleware looks
//! a request up there, and a route the table does not know is treated as private.

use std::collections::HashMap;

use axum::http::Method;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// A logged-in user (the default).
    User,
    /// An administrator of the installation.
    Admin,
}

/// Which body limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyClass {
    /// `KILN_JSON_BODY_LIMIT` (the default).
    Json,
    /// `KILN_UPLOAD_BODY_LIMIT`: file and plugin uploads.
    Upload,
}

/// Which rate limits apply, beyond the per-address and per-account ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Only the general limits.
    Api,
    /// Also the strict per-address limit on password checks (`RATE_LIMIT_AUTH_PER_MINUTE`),
    /// against brute force.
    Credentials,
}

/// How a route may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutePolicy {
    pub access: Access,
    pub body: BodyClass,
    pub rate: RateClass,
}

impl RoutePolicy {
    pub const PUBLIC: Self = Self::new(Access::Public);
    pub const USER: Self = Self::new(Access::User);
    pub const ADMIN: Self = Self::new(Access::Admin);

    const fn new(access: Access) -> Self {
        Self {
            access,
            body: BodyClass::Json,
            rate: RateClass::Api,
        }
    }

    /// The same policy with the upload body limit.
    pub const fn upload(self) -> Self {
        Self {
            body: BodyClass::Upload,
            ..self
        }
    }

    /// The same policy, also under the strict limit on password checks.
    pub const fn credentials(self) -> Self {
        Self {
            rate: RateClass::Credentials,
            ..self
        }
    }
}

/// One route of the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub method: Method,
    /// The path template, e.g. `/api/projects/{project_id}`.
    pub path: String,
    pub policy: RoutePolicy,
}

/// Every route with its policy, looked up by method and concrete path before routing
/// (so limits apply before a body is read).
#[derive(Default)]
pub struct RouteTable {
    entries: Vec<RouteEntry>,
    /// Per method: template → index into `entries`.
    by_method: HashMap<Method, matchit::Router<usize>>,
}

impl RouteTable {
    /// Adds `path` for `method`. A route registered twice keeps its first policy.
    pub fn insert(&mut self, method: Method, path: &str, policy: RoutePolicy) {
        let router = self.by_method.entry(method.clone()).or_default();
        if let Err(error) = router.insert(path, self.entries.len()) {
            // Only a route listed twice gets here; the authorization test checks that
            // every route of the router is in the table.
            tracing::error!(%method, path, %error, "route not added to the table");
            return;
        }
        self.entries.push(RouteEntry {
            method,
            path: path.to_owned(),
            policy,
        });
    }

    /// The route `method path` matches (`HEAD` as `GET`), if any.
    fn entry(&self, method: &Method, path: &str) -> Option<&RouteEntry> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let found = self.by_method.get(method)?.at(path).ok()?;
        self.entries.get(*found.value)
    }

    /// The policy of the route `method path` matches, if any.
    pub fn policy(&self, method: &Method, path: &str) -> Option<RoutePolicy> {
        self.entry(method, path).map(|entry| entry.policy)
    }

    /// The template of the route `method path` matches, e.g. `/api/files/{file_id}`.
    pub fn template(&self, method: &Method, path: &str) -> Option<&str> {
        self.entry(method, path).map(|entry| entry.path.as_str())
    }

    /// For a method `path`'s route does not have (the router answers 405 without
    /// running a handler): public only if the route is public with every method it has,
    /// so a caller learns nothing about a private route by trying other methods.
    pub fn other_method_access(&self, method: &Method, path: &str) -> Option<Access> {
        if self.policy(method, path).is_some() {
            return None;
        }
        let mut accesses = self
            .by_method
            .values()
            .filter_map(|router| router.at(path).ok())
            .filter_map(|found| self.entries.get(*found.value))
            .map(|entry| entry.policy.access)
            .peekable();
        accesses.peek()?;
        Some(if accesses.all(|access| access == Access::Public) {
            Access::Public
        } else {
            Access::User
        })
    }

    /// Whether anyone may call `method path`. Unknown routes are not public.
    pub fn is_public(&self, method: &Method, path: &str) -> bool {
        self.policy(method, path)
            .is_some_and(|policy| policy.access == Access::Public)
    }

    /// Whether `method path` takes uploads (the larger body limit).
    pub fn takes_uploads(&self, method: &Method, path: &str) -> bool {
        self.policy(method, path)
            .is_some_and(|policy| policy.body == BodyClass::Upload)
    }

    /// Every route, in registration order.
    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_paths_find_their_templates_policy() {
        let mut table = RouteTable::default();
        table.insert(Method::GET, "/health", RoutePolicy::PUBLIC);
        table.insert(
            Method::POST,
            "/api/projects/{project_id}/files",
            RoutePolicy::USER.upload(),
        );
        assert!(table.is_public(&Method::GET, "/health"));
        assert!(table.is_public(&Method::HEAD, "/health"));
        assert!(!table.is_public(&Method::POST, "/health"), "per method");
        assert!(table.takes_uploads(&Method::POST, "/api/projects/p1/files"));
        assert!(!table.takes_uploads(&Method::POST, "/api/projects/p1/files/x"));
        assert_eq!(table.policy(&Method::GET, "/nowhere"), None);
        assert_eq!(
            table.other_method_access(&Method::DELETE, "/health"),
            Some(Access::Public)
        );
        assert_eq!(
            table.other_method_access(&Method::GET, "/api/projects/p1/files"),
            Some(Access::User)
        );
        assert_eq!(table.other_method_access(&Method::GET, "/health"), None);
        assert_eq!(table.other_method_access(&Method::GET, "/nowhere"), None);
        assert_eq!(
            table.template(&Method::POST, "/api/projects/p1/files"),
            Some("/api/projects/{project_id}/files")
        );
        assert_eq!(table.entries().len(), 2);
    }
}
