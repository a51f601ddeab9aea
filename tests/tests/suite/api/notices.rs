//! Notices that protect an account (the takeover issue, item 1): sent
//! before the change they announce or the change is not made, budgeted per
//! account, and, to an address nobody confirmed, within its budget.

use std::sync::atomic::Ordering;

use serde_json::json;
use tests::{NEW_PASSWORD, PASSWORD, TestApp};

#[tokio::test]
async fn a_change_whose_notice_cannot_be_sent_is_not_made() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    let second = app.token("alice", PASSWORD).await;
    app.mail_down.store(true, Ordering::SeqCst);

    app.change_email(&token, "alice@new.example")
        .await
        .expect(503, "service temporarily unavailable, try again later");
    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(503, "service temporarily unavailable, try again later");
    app.post_bearer("/api/delete_account", &token, &json!({"pwd": PASSWORD}))
        .await
        .expect(503, "service temporarily unavailable, try again later");

    app.mail_down.store(false, Ordering::SeqCst);
    // Nothing was written: no pending change, the old password, every session.
    let export = app
        .post_bearer("/api/account_export", &second, &json!({"pwd": PASSWORD}))
        .await;
    export.expect(200, "success");
    assert!(export.body["data"]["pending_email_change"].is_null());
    assert_eq!(export.body["data"]["sessions"].as_array().unwrap().len(), 2);
    app.login("alice", PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn notices_are_budgeted_per_account_and_past_it_nothing_changes() {
    let app = TestApp::options()
        .env("RESET_EMAIL_USER_CEILING", "1")
        .spawn()
        .await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");

    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": NEW_PASSWORD, "new_pwd": PASSWORD}),
    )
    .await
    .expect(429, "too many emails, try again later.");

    app.login("alice", NEW_PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn notices_to_an_unconfirmed_address_count_against_its_budget() {
    // Throwaway accounts naming someone else's address cannot mail it a
    // notice each: an unconfirmed address is anyone's to name.
    let app = TestApp::options()
        .env("ADDRESS_MAIL_LIMIT", "1")
        .spawn()
        .await;
    app.register("throwaway", "victim@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let token = app.token("throwaway", PASSWORD).await;

    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");
    app.post_bearer("/api/delete_account", &token, &json!({"pwd": NEW_PASSWORD}))
        .await
        .expect(200, "Your account has been deleted.");

    assert_eq!(app.emails_to("victim@example.com").await.len(), 1);
}

#[tokio::test]
async fn retries_with_the_right_password_never_end_the_session() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    app.mail_down.store(true, Ordering::SeqCst);
    for _ in 0..6 {
        app.post_bearer(
            "/api/change_password",
            &token,
            &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
        )
        .await
        .expect(503, "service temporarily unavailable, try again later");
    }
    app.mail_down.store(false, Ordering::SeqCst);

    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");
}
