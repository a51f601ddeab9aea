//! `GET /api/sessions`, `DELETE /api/sessions/{id}`, `POST /api/logout_all`.

use serde_json::json;
use tests::{PASSWORD, TestApp};

#[tokio::test]
async fn sessions_are_listed_newest_first_and_one_can_be_ended() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let laptop = app.login("alice", PASSWORD, true).await.token();
    app.clock.advance(60);
    let phone = app.token("alice", PASSWORD).await;

    let listed = app.get_bearer("/api/sessions", &phone).await;

    listed.expect(200, "success");
    let sessions = listed.body["data"]["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(
        (
            sessions[0]["current"].as_bool(),
            sessions[0]["remember"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(
        (
            sessions[1]["current"].as_bool(),
            sessions[1]["remember"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let created = sessions[1]["created_at"].as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z') && created.contains('T'),
        "RFC 3339: {created}"
    );
    let laptop_id = sessions[1]["id"].as_str().unwrap().to_owned();
    // The id names the session; it is not one.
    app.get_bearer("/api/profile_settings", &laptop_id)
        .await
        .expect(401, "authentication required");
    assert!(!laptop.contains(&laptop_id));

    app.delete_bearer(&format!("/api/sessions/{laptop_id}"), &phone)
        .await
        .expect(200, "session ended");

    app.get_bearer("/api/profile_settings", &laptop)
        .await
        .expect(401, "authentication required");
    app.get_bearer("/api/profile_settings", &phone)
        .await
        .expect(200, "success");
    app.delete_bearer(&format!("/api/sessions/{laptop_id}"), &phone)
        .await
        .expect(404, "session not found");
    let left = app.get_bearer("/api/sessions", &phone).await;
    assert_eq!(left.body["data"]["sessions"].as_array().unwrap().len(), 1);
}

/// Each session names what signed in, summarised from its User-Agent (the
/// header itself is not kept); a client that sends none shows `null`. The
/// export lists the same.
#[tokio::test]
async fn each_session_shows_the_browser_that_signed_in() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    const FIREFOX: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
    app.send(
        app.request("POST", "/api/login")
            .header("user-agent", FIREFOX)
            .json(&json!({ "username": "alice", "pwd": PASSWORD })),
    )
    .await
    .expect(200, "success");
    app.clock.advance(60);
    let curl = app
        .send(
            app.request("POST", "/api/login")
                .header("user-agent", "curl/8.5.0")
                .json(&json!({ "username": "alice", "pwd": PASSWORD })),
        )
        .await
        .token();
    app.clock.advance(60);
    let bare = app.token("alice", PASSWORD).await;

    let listed = app.get_bearer("/api/sessions", &curl).await;
    let devices: Vec<_> = listed.body["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["device"].clone())
        .collect();
    assert_eq!(
        devices,
        [json!(null), json!("curl"), json!("Firefox on Windows")]
    );

    let export = app
        .post_bearer("/api/account_export", &bare, &json!({ "pwd": PASSWORD }))
        .await;
    export.expect(200, "success");
    let exported: Vec<_> = export.body["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["device"].clone())
        .collect();
    assert_eq!(exported, devices);
}

#[tokio::test]
async fn nobody_else_can_end_or_see_a_session() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    app.given_user("mallory", "mallory@example.com").await;
    let alice = app.token("alice", PASSWORD).await;
    let mallory = app.token("mallory", PASSWORD).await;
    let listed = app.get_bearer("/api/sessions", &alice).await;
    let id = listed.body["data"]["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    app.delete_bearer(&format!("/api/sessions/{id}"), &mallory)
        .await
        .expect(404, "session not found");
    let theirs = app.get_bearer("/api/sessions", &mallory).await;

    assert!(!theirs.body.to_string().contains(&id));
    app.get_bearer("/api/profile_settings", &alice)
        .await
        .expect(200, "success");
    app.get("/api/sessions")
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn a_cookie_session_needs_the_csrf_header_to_end_a_session() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, false).await;
    let cookie = format!(
        "access_token_cookie={}; csrf_access_token={}",
        login.cookie_value("access_token_cookie"),
        login.cookie_value("csrf_access_token")
    );

    let forged = app
        .send(
            app.request("DELETE", "/api/sessions/anything")
                .header("cookie", &cookie),
        )
        .await;
    let logout_all = app
        .send(
            app.request("POST", "/api/logout_all")
                .header("cookie", &cookie)
                .json(&json!({})),
        )
        .await;

    forged.expect(401, "missing or invalid CSRF token");
    logout_all.expect(401, "missing or invalid CSRF token");
}

#[tokio::test]
async fn logout_all_ends_every_session_and_clears_the_cookies() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let here = app.token("alice", PASSWORD).await;
    let elsewhere = app.token("alice", PASSWORD).await;

    let resp = app.post_bearer("/api/logout_all", &here, &json!({})).await;

    resp.expect(200, "user logout");
    assert!(resp.set_cookie("access_token_cookie").contains("Max-Age=0"));
    for token in [&here, &elsewhere] {
        app.get_bearer("/api/profile_settings", token)
            .await
            .expect(401, "authentication required");
    }
    app.login("alice", PASSWORD, false)
        .await
        .expect(200, "success");
}
