//! Projects and their timeline over the REST API (in-process router).

use crate::support;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::{Value, json};
use support::app::{Account, TestApp, bearer, get, post_json};

fn send_json(method: Method, uri: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn create(app: &TestApp, who: &Account, name: &str) -> String {
    let reply = app
        .send(bearer(
            post_json("/api/projects", json!({"name": name})),
            who,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_project_lives_through_update_status_and_delete_on_its_timeline() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    let id = create(&app, &ada, "kiln").await;
    let base = format!("/api/projects/{id}");

    let patch =
        json!({"name": "kiln 2", "settings": {"model": "gpt-x", "instructions": "be brief"}});
    let updated = app
        .send(bearer(send_json(Method::PATCH, &base, patch), &ada))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["name"], "kiln 2");
    assert_eq!(updated.body["settings"]["model"], "gpt-x");
    let unknown = app
        .send(bearer(
            send_json(Method::PATCH, &base, json!({"colour": "red"})),
            &ada,
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    let status = format!("{base}/status");
    let paused = app
        .send(bearer(
            post_json(&status, json!({"status": "paused"})),
            &ada,
        ))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    assert_eq!(paused.body["status"], "paused");
    let again = app
        .send(bearer(
            send_json(Method::PUT, &status, json!({"status": "paused"})),
            &ada,
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let bogus = app
        .send(bearer(
            post_json(&status, json!({"status": "deleted"})),
            &ada,
        ))
        .await;
    assert_eq!(bogus.status, StatusCode::UNPROCESSABLE_ENTITY);

    let timeline = app
        .send(bearer(get(&format!("{base}/timeline")), &ada))
        .await;
    assert_eq!(timeline.status, StatusCode::OK);
    let events = timeline.body["items"].as_array().unwrap();
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["status_changed", "project_updated", "project_created"]
    );
    assert_eq!(
        events[0]["metadata"],
        json!({"from": "active", "to": "paused"})
    );
    assert_eq!(
        events[1]["metadata"]["changes"]["name"],
        json!({"from": "kiln", "to": "kiln 2"})
    );
    assert_eq!(events[0]["actor_id"], json!(ada.id));
    assert!(events[0]["created_at"].as_str().unwrap().ends_with('Z'));

    let filtered = app
        .send(bearer(
            get(&format!("{base}/timeline?type=project_created")),
            &ada,
        ))
        .await;
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);
    let bad_filter = app
        .send(bearer(get(&format!("{base}/timeline?type=nonsense")), &ada))
        .await;
    assert_eq!(bad_filter.status, StatusCode::UNPROCESSABLE_ENTITY);

    let stats = app.send(bearer(get(&format!("{base}/stats")), &ada)).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.body["file_count"], 0);
    assert!(stats.body["languages"].is_object());

    let deleted = app
        .send(bearer(
            Request::delete(&base).body(Body::empty()).unwrap(),
            &ada,
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.send(bearer(get(&base), &ada)).await.status,
        StatusCode::NOT_FOUND
    );
    let list = app.send(bearer(get("/api/projects"), &ada)).await;
    assert_eq!(list.body["items"], json!([]));
    let feed = app.send(bearer(get("/api/timeline"), &ada)).await;
    assert_eq!(feed.body["items"][0]["type"], "project_deleted");
    assert_eq!(feed.body["items"][0]["project_id"], json!(id));
}

#[tokio::test]
async fn lists_page_by_cursor_and_say_how_to_go_on() {
    let app = TestApp::new().await;
    let ada = app.register("ada@example.org").await;
    for i in 0..5 {
        create(&app, &ada, &format!("p{i}")).await;
    }
    let mut seen = Vec::new();
    let mut uri = "/api/projects?limit=2".to_owned();
    loop {
        let page = app.send(bearer(get(&uri), &ada)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        create(&app, &ada, &format!("late{}", seen.len())).await;
        let Some(next) = page.body["next_cursor"].as_str() else {
            assert!(
                page.headers
                    .get(header::LINK)
                    .is_none_or(|l| !l.to_str().unwrap().contains("next"))
            );
            break;
        };
        let link = page.headers[header::LINK].to_str().unwrap();
        assert!(
            link.contains(&format!("after={next}")) && link.contains("rel=\"next\""),
            "{link}"
        );
        uri = format!("/api/projects?limit=2&after={next}");
    }
    assert_eq!(seen, ["p4", "p3", "p2", "p1", "p0"]);
    let bad = app
        .send(bearer(get("/api/projects?limit=1000"), &ada))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = app
        .send(bearer(get("/api/projects?after=garbage"), &ada))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn of_two_simultaneous_status_moves_one_wins_and_one_conflicts() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let ada = app.register("ada@example.org").await;
    let id = create(&app, &ada, "raced").await;
    let uri = format!("/api/projects/{id}/status");
    let mut moves = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (app, request) = (
            app.clone(),
            bearer(post_json(&uri, json!({"status": "paused"})), &ada),
        );
        moves.spawn(async move { app.send(request).await.status });
    }
    let mut statuses = moves.join_all().await;
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let timeline = app
        .send(bearer(
            get(&format!("/api/projects/{id}/timeline?type=status_changed")),
            &ada,
        ))
        .await;
    assert_eq!(
        timeline.body["items"].as_array().unwrap().len(),
        1,
        "one move, one event"
    );
    let bad = app.send(bearer(get("/api/projects?limit=abc"), &ada)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["type"], "validation_error");
}
