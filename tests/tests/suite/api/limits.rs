//! Per-IP limits on login, registration and reset requests.

use tests::{PASSWORD, TestApp};

#[tokio::test]
async fn logins_are_limited_per_client_ip() {
    let app = TestApp::options().env("IP_LIMIT_LOGIN", "3").spawn().await;
    for i in 0..3 {
        app.login(&format!("user{i}"), PASSWORD, false)
            .await
            .expect(401, "wrong username or password");
    }

    let limited = app.login("someone", PASSWORD, false).await;
    app.clock.advance(60);
    let next_window = app.login("someone", PASSWORD, false).await;

    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    next_window.expect(401, "wrong username or password");
}

#[tokio::test]
async fn registrations_and_reset_requests_are_limited_per_client_ip() {
    let app = TestApp::options()
        .env("IP_LIMIT_REGISTRATION", "2")
        .env("IP_LIMIT_RESET", "1")
        .spawn()
        .await;
    app.register("alice", "alice@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    app.register("bob", "bob@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");

    assert_eq!(
        app.register("carol", "carol@example.com", PASSWORD)
            .await
            .status,
        429
    );
    assert_eq!(app.request_reset("bob").await.status, 429);
    assert!(app.emails_to("carol@example.com").await.is_empty());
}

#[tokio::test]
async fn ip_limits_can_be_turned_off() {
    let app = TestApp::options()
        .env("IP_LIMITS", "off")
        .env("IP_LIMIT_LOGIN", "1")
        .spawn()
        .await;
    for i in 0..5 {
        app.login(&format!("user{i}"), PASSWORD, false)
            .await
            .expect(401, "wrong username or password");
    }
}
