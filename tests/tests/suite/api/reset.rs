//! Password reset: request, link, new password, sessions ended, caps.

use tests::{NEW_PASSWORD, PASSWORD, TestApp};

#[tokio::test]
async fn the_whole_reset_flow_changes_the_password_and_ends_every_session() {
    let app = TestApp::spawn().await;
    app.register("Alice", "alice@example.com", PASSWORD).await;
    let old_session = app.token("alice", PASSWORD).await;

    app.request_reset("ALICE")
        .await
        .expect(200, "Check your email...");
    let link = app.link_to("alice@example.com", "/reset_password/").await;
    let token = app.reset_token_for("alice@example.com").await;
    let reset = app.reset_password(&token, NEW_PASSWORD).await;

    assert_eq!(link, format!("{}/reset_password/{token}", app.base));
    reset.expect(200, "Your password has been reset.");
    app.get_bearer("/api/profile_settings", &old_session)
        .await
        .expect(401, "authentication required");
    app.login("alice", PASSWORD, false)
        .await
        .expect(401, "wrong username or password");
    let new_session = app.token("alice", NEW_PASSWORD).await;
    let profile = app.get_bearer("/api/profile_settings", &new_session).await;
    assert_eq!(profile.body["data"]["is_email_verified"], true);
    let notice = app.emails_to("alice@example.com").await.pop().unwrap();
    assert!(notice.contains("Your password was changed"));
    assert!(!notice.contains(NEW_PASSWORD));
}

#[tokio::test]
async fn a_rejected_password_does_not_burn_the_link() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    app.request_reset("alice").await;
    let token = app.reset_token_for("alice@example.com").await;

    let weak = app.reset_password(&token, "1234").await;
    let same_as_name = app.reset_password(&token, "Alice").await;
    let good = app.reset_password(&token, NEW_PASSWORD).await;

    assert_eq!(weak.status, 400);
    assert!(weak.msg().starts_with("new_pwd"), "{}", weak.msg());
    assert_eq!(same_as_name.status, 400);
    assert!(
        same_as_name.msg().starts_with("new_pwd"),
        "{}",
        same_as_name.msg()
    );
    good.expect(200, "Your password has been reset.");
}

#[tokio::test]
async fn a_reset_link_works_once_and_for_an_hour() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    app.request_reset("alice").await;
    let used = app.reset_token_for("alice@example.com").await;
    app.reset_password(&used, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    app.request_reset("alice").await;
    let late = app.reset_token_for("alice@example.com").await;

    let reused = app.reset_password(&used, "An0ther-Passw0rd!").await;
    app.clock.advance(3600);
    let expired = app.reset_password(&late, "An0ther-Passw0rd!").await;

    reused.expect(400, "user not found");
    expired.expect(400, "user not found");
    app.login("alice", NEW_PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn unknown_tokens_and_users_are_not_found() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    let confirm_token = app
        .link_to("alice@example.com", "/api/confirm_email/")
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    app.reset_password(&"A".repeat(43), NEW_PASSWORD)
        .await
        .expect(400, "user not found");
    app.reset_password("short", NEW_PASSWORD)
        .await
        .expect(400, "user not found");
    // A confirmation token is not a reset token.
    app.reset_password(&confirm_token, NEW_PASSWORD)
        .await
        .expect(400, "user not found");
    app.request_reset("nobody")
        .await
        .expect(400, "user not found");
    app.request_reset("not a name!")
        .await
        .expect(400, "user not found");
}

#[tokio::test]
async fn a_reset_token_cannot_confirm_an_email() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    app.request_reset("alice").await;
    let token = app.reset_token_for("alice@example.com").await;

    app.get(&format!("/api/confirm_email/{token}"))
        .await
        .expect(400, "user not found.");
    app.reset_password(&token, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
}

#[tokio::test]
async fn at_most_three_reset_emails_per_user_per_hour() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    for _ in 0..3 {
        app.request_reset("alice")
            .await
            .expect(200, "Check your email...");
    }

    let fourth = app.request_reset("alice").await;
    let retry: i64 = fourth.header("retry-after").unwrap().parse().unwrap();
    app.clock.advance(retry);
    let next_hour = app.request_reset("alice").await;

    assert_eq!(fourth.status, 429);
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(app.emails_to("alice@example.com").await.len(), 1 + 4);
    next_hour.expect(200, "Check your email...");
}

#[tokio::test]
async fn the_reset_link_base_is_configurable() {
    let app = TestApp::options()
        .env(
            "RESET_PASSWORD_URL",
            "https://app.example.com/account/reset_password",
        )
        .spawn()
        .await;
    app.register("alice", "alice@example.com", PASSWORD).await;

    app.request_reset("alice").await;

    let link = app.link_to("alice@example.com", "/reset_password/").await;
    assert!(
        link.starts_with("https://app.example.com/account/reset_password/"),
        "{link}"
    );
}

#[tokio::test]
async fn a_completed_reset_voids_the_other_reset_links() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    app.request_reset("alice").await;
    let first = app.reset_token_for("alice@example.com").await;
    app.request_reset("alice").await;
    let second = app.reset_token_for("alice@example.com").await;

    app.reset_password(&second, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    let stale = app.reset_password(&first, "An0ther-Passw0rd!").await;
    app.request_reset("alice").await;
    let fresh = app.reset_token_for("alice@example.com").await;

    stale.expect(400, "user not found");
    app.login("alice", NEW_PASSWORD, false)
        .await
        .expect(200, "success");
    app.reset_password(&fresh, "An0ther-Passw0rd!")
        .await
        .expect(200, "Your password has been reset.");
}
