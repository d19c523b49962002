//! How a session travels in a browser: three cookies, shared by the REST routes and the
//! UI's server functions so both set exactly the same attributes.

use kiln_types::{ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE};

use super::Session;

/// `Secure` is set when Kiln is served over https (`KILN_PUBLIC_URL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    /// `Set-Cookie` values that store `session` in the browser.
    pub fn session_cookies(self, session: &Session) -> [String; 3] {
        let access = session.access_ttl.as_secs();
        let refresh = session.refresh_ttl.as_secs();
        [
            self.cookie(ACCESS_COOKIE, &session.access_token, access, true),
            self.cookie(REFRESH_COOKIE, &session.refresh_token, refresh, true),
            // Readable by the page, which echoes it in the CSRF header.
            self.cookie(CSRF_COOKIE, &session.principal.csrf_token, refresh, false),
        ]
    }

    /// `Set-Cookie` values that remove the session from the browser.
    pub fn cleared_cookies(self) -> [String; 3] {
        [
            self.cookie(ACCESS_COOKIE, "", 0, true),
            self.cookie(REFRESH_COOKIE, "", 0, true),
            self.cookie(CSRF_COOKIE, "", 0, false),
        ]
    }

    fn cookie(self, name: &str, value: &str, max_age: u64, http_only: bool) -> String {
        let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
        if http_only {
            cookie.push_str("; HttpOnly");
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }
}

/// The value of cookie `name` in `Cookie` header values.
pub fn find_cookie<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    headers
        .into_iter()
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let [access, refresh, csrf] = CookiePolicy { secure: true }.cleared_cookies();
        assert!(access.contains("HttpOnly") && access.contains("SameSite=Strict"));
        assert!(refresh.contains("HttpOnly") && refresh.contains("Secure"));
        assert!(!csrf.contains("HttpOnly") && csrf.contains("Max-Age=0"));
        let [access, ..] = CookiePolicy { secure: false }.cleared_cookies();
        assert!(!access.contains("Secure"));
    }

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let headers = ["a=1; kiln_access=tok", "kiln_csrf=c"];
        assert_eq!(find_cookie(headers, "kiln_access"), Some("tok"));
        assert_eq!(find_cookie(headers, "kiln_csrf"), Some("c"));
        assert_eq!(find_cookie(headers, "kiln"), None);
        assert_eq!(find_cookie(["kiln_access="], "kiln_access"), None);
    }
}
