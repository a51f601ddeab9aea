//! `GET /api/whoami`: who a session belongs to, refused the moment it ends.

use serde_json::json;
use tests::{PASSWORD, TestApp};

#[tokio::test]
async fn whoami_names_the_user_and_the_session() {
    let app = TestApp::spawn().await;
    app.given_user("Alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, true).await;
    let token = login.token();

    let me = app.get_bearer("/api/whoami", &token).await;

    me.expect(200, "success");
    let data = &me.body["data"];
    assert_eq!(data["username"], "Alice");
    assert_eq!(data["is_email_verified"], true);
    // The session is the one /api/sessions calls current, with its expiry.
    let sessions = app.get_bearer("/api/sessions", &token).await;
    let current = sessions.body["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(data["session"]["id"], current["id"]);
    assert_eq!(data["session"]["expires_at"], current["expires_at"]);
    assert_eq!(
        data.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["account_id", "username", "is_email_verified", "session"]
    );
}

/// Other services key their data by `account_id`: stable across sessions,
/// and never the same for a later account with the same username.
#[tokio::test]
async fn whoami_names_the_account_by_an_id_a_later_account_never_gets() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let first = app.token("alice", PASSWORD).await;
    let second = app.token("alice", PASSWORD).await;
    let id = |resp: &tests::Resp| resp.body["data"]["account_id"].as_str().unwrap().to_owned();
    let before = id(&app.get_bearer("/api/whoami", &first).await);
    assert_eq!(before, id(&app.get_bearer("/api/whoami", &second).await));
    assert!(before.len() >= 20, "{before}");

    app.post_bearer("/api/delete_account", &first, &json!({ "pwd": PASSWORD }))
        .await
        .expect(200, "Your account has been deleted.");
    app.given_user("alice", "alice@example.com").await;
    let later = app.token("alice", PASSWORD).await;
    let after = id(&app.get_bearer("/api/whoami", &later).await);

    assert_ne!(before, after);
}

#[tokio::test]
async fn whoami_works_with_the_session_cookie() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, false).await;
    let jwt = login.cookie_value("access_token_cookie");

    let me = app
        .send(
            app.request("GET", "/api/whoami")
                .header("cookie", format!("access_token_cookie={jwt}")),
        )
        .await;

    me.expect(200, "success");
    assert_eq!(me.body["data"]["username"], "alice");
}

#[tokio::test]
async fn whoami_refuses_a_token_once_its_session_ended() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    app.get_bearer("/api/whoami", &token)
        .await
        .expect(200, "success");

    app.get_bearer("/api/logout", &token)
        .await
        .expect(200, "user logout");

    app.get_bearer("/api/whoami", &token)
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn whoami_refuses_no_token_a_forged_one_and_an_expired_one() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    app.get("/api/whoami")
        .await
        .expect(401, "authentication required");
    app.get_bearer("/api/whoami", "not.a.jwt")
        .await
        .expect(401, "authentication required");
    let token = app.token("alice", PASSWORD).await;
    app.clock.advance(24 * 3600);
    app.get_bearer("/api/whoami", &token)
        .await
        .expect(401, "authentication required");
    // A deleted account's sessions are gone with it.
    let token = app.token("alice", PASSWORD).await;
    app.post_bearer("/api/delete_account", &token, &json!({"pwd": PASSWORD}))
        .await
        .expect(200, "Your account has been deleted.");
    app.get_bearer("/api/whoami", &token)
        .await
        .expect(401, "authentication required");
}
