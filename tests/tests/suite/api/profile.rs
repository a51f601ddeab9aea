//! `GET /api/profile_settings`: the signed-in user's profile, masked email.

use serde_json::json;
use tests::{JWT_SECRET, PASSWORD, TestApp};

#[tokio::test]
async fn profile_shows_the_seven_keys_with_the_email_masked() {
    let app = TestApp::spawn().await;
    app.register_body(&json!({
        "username": "Admin", "full_name": "Admin A.A.", "email": "dmitriyz@example.com",
        "phone": null, "contacts": null, "pwd": PASSWORD,
    }))
    .await
    .expect(200, "Check your email...");
    let token = app.token("admin", PASSWORD).await;

    let resp = app.get_bearer("/api/profile_settings", &token).await;

    resp.expect(200, "success");
    assert_eq!(
        resp.body["data"],
        json!({
            "contacts": null,
            "email": "d******z@example.com",
            "full_name": "Admin A.A.",
            "is_email_verified": false,
            "phone": null,
            "pwd": "********",
            "username": "Admin",
        })
    );
}

#[tokio::test]
async fn short_local_parts_are_masked_too() {
    let app = TestApp::spawn().await;
    for (username, email, masked) in [
        ("one", "a@example.com", "*@example.com"),
        ("two", "ab@example.com", "a*@example.com"),
        ("three", "abc@example.com", "a*c@example.com"),
    ] {
        app.register(username, email, PASSWORD)
            .await
            .expect(200, "Check your email...");
        let token = app.token(username, PASSWORD).await;

        let resp = app.get_bearer("/api/profile_settings", &token).await;

        assert_eq!(resp.body["data"]["email"], masked);
    }
}

#[tokio::test]
async fn profile_accepts_the_access_cookie() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    let login = app.login("alice", PASSWORD, false).await;
    let cookie = format!(
        "access_token_cookie={}",
        login.cookie_value("access_token_cookie")
    );

    app.get_cookie("/api/profile_settings", &cookie)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn profile_needs_a_valid_token_for_a_live_session() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    let token = app.token("alice", PASSWORD).await;
    let other_secret = TestApp::options()
        .env("JWT_SECRET", "another-secret-another-secret-another-1")
        .spawn()
        .await;
    other_secret
        .register("alice", "alice@example.com", PASSWORD)
        .await;
    let forged = other_secret.token("alice", PASSWORD).await;
    let wrong_audience = TestApp::options()
        .env("JWT_AUDIENCE", "someone-else")
        .env("JWT_SECRET", JWT_SECRET)
        .spawn()
        .await;
    wrong_audience
        .register("alice", "alice@example.com", PASSWORD)
        .await;
    let other_audience = wrong_audience.token("alice", PASSWORD).await;

    app.get("/api/profile_settings")
        .await
        .expect(401, "authentication required");
    for bad in ["garbage", "a.b.c", forged.as_str(), other_audience.as_str()] {
        app.get_bearer("/api/profile_settings", bad)
            .await
            .expect(401, "authentication required");
    }
    app.send(
        app.request("GET", "/api/profile_settings")
            .header("authorization", format!("Basic {token}")),
    )
    .await
    .expect(401, "authentication required");
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(200, "success");
    app.clock.advance(86_400);
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(401, "authentication required");
}
