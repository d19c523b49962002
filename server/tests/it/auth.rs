//! Accounts, sessions, CSRF and rate limits over real HTTP semantics (in-process router).

use crate::support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kiln_server::http::{HttpSettings, RateLimits};
use serde_json::json;
use support::app::{
    Account, TestApp, account, bearer, browser, cookies, get, post_json, relaxed, test_key,
};

fn with_token(request: Request<axum::body::Body>, token: &str) -> Request<axum::body::Body> {
    let account = Account {
        id: String::new(),
        access_token: token.into(),
        refresh_token: String::new(),
        csrf_token: String::new(),
        cookies: String::new(),
    };
    bearer(request, &account)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(kid: &str, secret: &[u8], claims: serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[tokio::test]
async fn register_login_me_and_the_cookies_a_browser_gets() {
    let app = TestApp::new().await;
    let reply = app
        .send(post_json(
            "/api/auth/register",
            json!({"email": "Ada@Example.org", "password": "correct horse battery"}),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["token_type"], "bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert_eq!(
        reply.body["user"]["is_admin"], true,
        "the first user is admin"
    );
    let set_cookies: Vec<_> = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    for name in ["kiln_access=", "kiln_refresh="] {
        let cookie = set_cookies.iter().find(|c| c.starts_with(name)).unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
    }
    let ada = account(&reply);

    let me = app.send(bearer(get("/api/auth/me"), &ada)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "ada@example.org");
    assert!(me.body.get("password_hash").is_none(), "{}", me.text);
    let me = app.send(cookies(get("/api/auth/me"), &ada)).await;
    assert_eq!(me.status, StatusCode::OK, "a GET needs no CSRF token");

    let anonymous = app.send(get("/api/auth/me")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body["type"], "unauthorized");
    assert_eq!(anonymous.headers[header::WWW_AUTHENTICATE], "Bearer");

    let login = |password: &str| {
        post_json(
            "/api/auth/login",
            json!({"email": "ada@example.org", "password": password}),
        )
    };
    let wrong = app.send(login("wrong password")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let unknown = app
        .send(post_json(
            "/api/auth/login",
            json!({"email": "nobody@example.org", "password": "wrong password"}),
        ))
        .await;
    assert_eq!(
        unknown.body["detail"], wrong.body["detail"],
        "no account enumeration"
    );
    let ok = app.send(login("correct horse battery")).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body["access_token"].is_string());

    let second = app.register("bob@example.org").await;
    let me = app.send(bearer(get("/api/auth/me"), &second)).await;
    assert_eq!(me.body["is_admin"], false);
    let dup = app
        .send(post_json(
            "/api/auth/register",
            json!({"email": "ADA@example.org", "password": "another password"}),
        ))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let weak = app
        .send(post_json(
            "/api/auth/register",
            json!({"email": "eve@example.org", "password": "short"}),
        ))
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.body["fields"][0]["field"], "password");
}

#[tokio::test]
async fn forged_expired_and_unknown_key_tokens_are_refused() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let key = test_key("test");
    let claims = |exp: u64| json!({"sub": ada.id, "iss": "kiln", "iat": unix_now(), "exp": exp, "adm": false, "sid": "s", "csrf": "c"});
    let valid = sign("test", &key.secret, claims(unix_now() + 600));
    assert_eq!(
        app.send(with_token(get("/api/auth/me"), &valid))
            .await
            .status,
        StatusCode::OK
    );

    let expired = sign("test", &key.secret, claims(unix_now() - 120));
    let unknown_kid = sign("other", &key.secret, claims(unix_now() + 600));
    let wrong_secret = sign(
        "test",
        b"another secret of thirty-two bytes!",
        claims(unix_now() + 600),
    );
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let parts: Vec<&str> = valid.split('.').collect();
    // Same signature, payload edited to claim admin rights.
    let mut forged_claims = claims(unix_now() + 600);
    forged_claims["adm"] = json!(true);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(&forged_claims.to_string()),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT","kid":"test"}"#),
        parts[1]
    );
    let hs512 = {
        let mut header = Header::new(Algorithm::HS512);
        header.kid = Some("test".into());
        jsonwebtoken::encode(
            &header,
            &claims(unix_now() + 600),
            &EncodingKey::from_secret(&key.secret),
        )
        .unwrap()
    };
    for (name, token) in [
        ("expired", expired),
        ("unknown kid", unknown_kid),
        ("wrong secret", wrong_secret),
        ("tampered", tampered),
        ("alg none", alg_none),
        ("other algorithm", hs512),
        ("garbage", "garbage".into()),
    ] {
        let reply = app.send(with_token(get("/api/auth/me"), &token)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(reply.body["type"], "unauthorized", "{name}");
    }
    let basic = Request::get("/api/auth/me")
        .header(header::AUTHORIZATION, "Basic YTpi")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(basic).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_rotated_key_still_verifies_the_tokens_it_signed() {
    let old_app = TestApp::new().await;
    let ada = old_app.register("ada@example.org").await;
    let old_token = ada.access_token.clone();
    // The same token presented to a server that signs with a new key and keeps the old
    // one for verification (the database is another one: /me would not find Ada, so
    // use a route that needs only the token).
    let rotated = TestApp::builder()
        .keys(vec![test_key("next"), test_key("test")], "next")
        .build()
        .await;
    let reply = rotated
        .send(with_token(get("/api/projects"), &old_token))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let bob = rotated.register("bob@example.org").await;
    let header = jsonwebtoken::decode_header(&bob.access_token).unwrap();
    assert_eq!(
        header.kid.as_deref(),
        Some("next"),
        "new tokens use the active key"
    );
    let retired = TestApp::builder()
        .keys(vec![test_key("next")], "next")
        .build()
        .await;
    let reply = retired
        .send(with_token(get("/api/projects"), &old_token))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "a retired key verifies nothing"
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let refresh = |token: &str| post_json("/api/auth/refresh", json!({"refresh_token": token}));
    let first = app.send(refresh(&ada.refresh_token)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let next = account(&first);
    assert_ne!(next.refresh_token, ada.refresh_token);
    assert_eq!(
        app.send(bearer(get("/api/auth/me"), &next)).await.status,
        StatusCode::OK
    );

    // Presented again long after its rotation (not a concurrent burst), it is a replay.
    app.services
        .db
        .query("UPDATE refresh_token SET used_at = time::now() - 1h WHERE used_at != NONE")
        .await
        .unwrap()
        .check()
        .unwrap();
    let replay = app.send(refresh(&ada.refresh_token)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    let revoked = app.send(refresh(&next.refresh_token)).await;
    assert_eq!(
        revoked.status,
        StatusCode::UNAUTHORIZED,
        "the family is revoked"
    );

    // Browsers refresh with the cookie, and must prove it with the CSRF header.
    let other = app
        .send(post_json(
            "/api/auth/login",
            json!({"email": "ada@example.org", "password": "correct horse battery"}),
        ))
        .await;
    let other = account(&other);
    let no_csrf = app
        .send(cookies(
            Request::post("/api/auth/refresh")
                .body(Body::empty())
                .unwrap(),
            &other,
        ))
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let ok = app
        .send(browser(
            Request::post("/api/auth/refresh")
                .body(Body::empty())
                .unwrap(),
            &other,
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
}

/// `shared/cases/13-refresh-race`: two refreshes with one token at the same moment.
#[tokio::test]
async fn two_refreshes_with_one_token_at_once_keep_the_session() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let ada = app.register("ada@example.org").await;
    for _ in 0..5 {
        let mut both = tokio::task::JoinSet::new();
        for _ in 0..2 {
            let (app, token) = (app.clone(), ada.refresh_token.clone());
            both.spawn(async move {
                app.send(post_json(
                    "/api/auth/refresh",
                    json!({"refresh_token": token}),
                ))
                .await
            });
        }
        for reply in both.join_all().await {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            let session = account(&reply);
            let me = app.send(bearer(get("/api/auth/me"), &session)).await;
            assert_eq!(me.status, StatusCode::OK, "the session goes on");
            let again = post_json(
                "/api/auth/refresh",
                json!({"refresh_token": session.refresh_token}),
            );
            assert_eq!(app.send(again).await.status, StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookies() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let reply = app
        .send(browser(
            Request::post("/api/auth/logout")
                .body(Body::empty())
                .unwrap(),
            &ada,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let cleared = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|c| c.to_str().unwrap().contains("Max-Age=0"))
        .count();
    assert_eq!(cleared, 3);
    let refresh = app
        .send(post_json(
            "/api/auth/refresh",
            json!({"refresh_token": ada.refresh_token}),
        ))
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);

    // An API client may log out with just its access token.
    let client = account(
        &app.send(post_json(
            "/api/auth/login",
            json!({"email": "ada@example.org", "password": "correct horse battery"}),
        ))
        .await,
    );
    let reply = app
        .send(bearer(
            Request::post("/api/auth/logout")
                .body(Body::empty())
                .unwrap(),
            &client,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let refresh = app
        .send(post_json(
            "/api/auth/refresh",
            json!({"refresh_token": client.refresh_token}),
        ))
        .await;
    assert_eq!(
        refresh.status,
        StatusCode::UNAUTHORIZED,
        "the session behind the token ended"
    );
}

#[tokio::test]
async fn anonymous_visitors_get_an_empty_session_not_an_error() {
    let app = TestApp::new().await;
    let (path, _) = leptos::server_fn::axum::server_fn_paths()
        .find(|(path, _)| path.ends_with("/api/ui/session"))
        .unwrap();
    let reply = app.send(get(path)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body, serde_json::Value::Null);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    let app = TestApp::new().await;
    let laptop = app.register("ada@example.org").await;
    let phone = account(
        &app.send(post_json(
            "/api/auth/login",
            json!({"email": "ada@example.org", "password": "correct horse battery"}),
        ))
        .await,
    );
    let change = |current: &str| {
        post_json(
            "/api/auth/password",
            json!({"current_password": current, "new_password": "a brand new passphrase"}),
        )
    };
    let wrong = app.send(bearer(change("not my password"), &laptop)).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["fields"][0]["field"], "current_password");
    let ok = app
        .send(bearer(change("correct horse battery"), &laptop))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let phone_refresh = app
        .send(post_json(
            "/api/auth/refresh",
            json!({"refresh_token": phone.refresh_token}),
        ))
        .await;
    assert_eq!(phone_refresh.status, StatusCode::UNAUTHORIZED);
    let relogin = app
        .send(post_json(
            "/api/auth/login",
            json!({"email": "ada@example.org", "password": "a brand new passphrase"}),
        ))
        .await;
    assert_eq!(relogin.status, StatusCode::OK);
}

#[tokio::test]
async fn cookie_authenticated_mutations_need_the_csrf_token() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let create = |name: &str| post_json("/api/projects", json!({"name": name}));

    let missing = app.send(cookies(create("a"), &ada)).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(missing.body["type"], "forbidden");
    let mut wrong = cookies(create("a"), &ada);
    wrong
        .headers_mut()
        .insert("x-csrf-token", "guess".parse().unwrap());
    assert_eq!(app.send(wrong).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.send(browser(create("a"), &ada)).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.send(bearer(create("b"), &ada)).await.status,
        StatusCode::CREATED,
        "API clients need no CSRF token"
    );

    // A form posted without JavaScript carries the token as a field.
    let (path, _) = leptos::server_fn::axum::server_fn_paths()
        .find(|(path, _)| path.contains("create_project"))
        .unwrap();
    let form = |body: String| {
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let refused = app
        .send(cookies(form("name=c&description=".into()), &ada))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let accepted = app
        .send(cookies(
            form(format!("name=c&description=&csrf_token={}", ada.csrf_token)),
            &ada,
        ))
        .await;
    assert!(
        accepted.status.is_success(),
        "{} {}",
        accepted.status,
        accepted.text
    );
    let list = app.send(bearer(get("/api/projects"), &ada)).await;
    let names: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("c"), json!("b"), json!("a")]);
}

#[tokio::test]
async fn a_burst_over_the_limit_gets_429_with_retry_after() {
    let settings = HttpSettings {
        rate_limits: RateLimits {
            ip_per_minute: 5,
            ..relaxed().rate_limits
        },
        ..relaxed()
    };
    let app = TestApp::builder().settings(settings).build().await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(app.send(get("/api/openapi.json")).await);
    }
    assert!(statuses[..5].iter().all(|r| r.status == StatusCode::OK));
    let limited = &statuses[5];
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["type"], "rate_limit_exceeded");
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Pages and health probes are not API calls.
    assert_eq!(app.send(get("/health")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn password_guessing_is_limited_per_address() {
    let settings = HttpSettings {
        rate_limits: RateLimits {
            auth_per_minute: 3,
            ..relaxed().rate_limits
        },
        ..relaxed()
    };
    let app = TestApp::builder().settings(settings).build().await;
    let guess = || {
        post_json(
            "/api/auth/login",
            json!({"email": "ada@example.org", "password": "guess guess"}),
        )
    };
    for _ in 0..3 {
        assert_eq!(app.send(guess()).await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = app.send(guess()).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    // Another address is not punished for it.
    let mut elsewhere = guess();
    elsewhere
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 2],
            1,
        ))));
    assert_eq!(app.send(elsewhere).await.status, StatusCode::UNAUTHORIZED);
}
