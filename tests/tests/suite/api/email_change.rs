//! `POST /api/change_email` and `GET /api/revert_email/{token}`.

use serde_json::json;
use tests::{NEW_PASSWORD, PASSWORD, TestApp};

/// After a revert: the old password is refused as a wrong one, the reset
/// link mailed to the restored address sets a new one; a session with it.
async fn recover(app: &TestApp, username: &str, restored: &str) -> String {
    app.login(username, PASSWORD, false)
        .await
        .expect(401, "wrong username or password");
    let reset = app.reset_token_for(restored).await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    app.token(username, NEW_PASSWORD).await
}

#[tokio::test]
async fn an_email_change_waits_for_the_link_sent_to_the_new_address() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;

    app.change_email(&token, "alice@new.example")
        .await
        .expect(200, "Check your email...");

    // Nothing changed yet: the profile, a reset and login use the old address.
    let profile = app.get_bearer("/api/profile_settings", &token).await;
    assert!(
        profile.body["data"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@old.example")
    );
    app.request_reset("alice").await;
    assert!(
        app.emails_to("alice@old.example")
            .await
            .last()
            .unwrap()
            .contains("Reset your password")
    );
    let notice = app.emails_to("alice@old.example").await;
    assert!(notice.iter().any(|m| m.contains("/revert_email/")));

    let link = app
        .link_to("alice@new.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(200, "Your email has been confirmed.");

    let profile = app.get_bearer("/api/profile_settings", &token).await;
    assert!(
        profile.body["data"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@new.example")
    );
    assert_eq!(profile.body["data"]["is_email_verified"], true);
    app.get(&app.path_of(&link))
        .await
        .expect(400, "user not found.");
    // The old address is free for someone else now; the new one is taken.
    app.register_confirmed("bob", "alice@old.example").await;
    app.register("carol", "alice@new.example", PASSWORD).await;
    assert!(
        app.emails_to("alice@new.example")
            .await
            .last()
            .unwrap()
            .contains("Someone tried to register")
    );
}

#[tokio::test]
async fn the_old_address_can_undo_a_change_and_every_session_ends() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    let other = app.token("alice", PASSWORD).await;
    app.change_email(&token, "attacker@evil.example")
        .await
        .expect(200, "Check your email...");
    let applied = app
        .link_to("attacker@evil.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&applied))
        .await
        .expect(200, "Your email has been confirmed.");

    let revert = app.link_to("alice@old.example", "/api/revert_email/").await;
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");

    for t in [&token, &other] {
        app.get_bearer("/api/profile_settings", t)
            .await
            .expect(401, "authentication required");
    }
    let fresh = recover(&app, "alice", "alice@old.example").await;
    let profile = app.get_bearer("/api/profile_settings", &fresh).await;
    assert!(
        profile.body["data"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@old.example")
    );
    assert_eq!(profile.body["data"]["is_email_verified"], true);
    app.get(&app.path_of(&revert))
        .await
        .expect(400, "user not found.");
    // The other address is released: its owner can confirm an account with it.
    app.register_confirmed("eve", "attacker@evil.example").await;
}

#[tokio::test]
async fn undoing_a_pending_change_voids_its_link() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "alice@new.example")
        .await
        .expect(200, "Check your email...");

    let revert = app.link_to("alice@old.example", "/api/revert_email/").await;
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");

    let link = app
        .link_to("alice@new.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(400, "user not found.");
}

#[tokio::test]
async fn a_second_change_voids_the_first_link() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "first@new.example").await;
    app.change_email(&token, "second@new.example").await;

    let first = app
        .link_to("first@new.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&first))
        .await
        .expect(400, "user not found.");
    let second = app
        .link_to("second@new.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&second))
        .await
        .expect(200, "Your email has been confirmed.");
}

#[tokio::test]
async fn changing_to_an_address_another_account_holds_looks_the_same() {
    let app = TestApp::spawn().await;
    app.register_confirmed("owner", "owner@example.com").await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;

    let taken = app.change_email(&token, "OWNER@example.com").await;
    let free = app.change_email(&token, "free@example.com").await;

    assert_eq!((taken.status, &taken.body), (free.status, &free.body));
    let to_owner = app.emails_to("owner@example.com").await;
    let notice = to_owner.last().unwrap();
    assert!(notice.contains("Subject: Someone tried to use your email address"));
    assert!(!notice.contains("/confirm_email/"));
}

#[tokio::test]
async fn an_email_change_needs_the_password_and_a_new_valid_address() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    app.post_bearer(
        "/api/change_email",
        &token,
        &json!({"pwd": "Wr0ng-Passw0rd!", "new_email": "a@new.example"}),
    )
    .await
    .expect(401, "wrong password");
    app.change_email(&token, "not an address")
        .await
        .expect(400, "new_email is not a valid email address.");
    app.change_email(&token, "ALICE@example.com")
        .await
        .expect(400, "new_email is already the account's address.");
    assert!(app.emails_to("alice@example.com").await.is_empty());
}

#[tokio::test]
async fn an_older_revert_link_voids_the_newer_ones_but_not_the_reverse() {
    // An intruder changes the address twice (a -> x -> y); the owner's link
    // (sent to a) restores a and kills the link sent to x; the intruder's
    // link (sent to x), used first, does not kill the owner's.
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@a.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "x@x.example").await;
    let to_x = app.link_to("x@x.example", "/api/confirm_email/").await;
    app.get(&app.path_of(&to_x))
        .await
        .expect(200, "Your email has been confirmed.");
    app.change_email(&token, "y@y.example").await;
    let to_y = app.link_to("y@y.example", "/api/confirm_email/").await;
    app.get(&app.path_of(&to_y))
        .await
        .expect(200, "Your email has been confirmed.");
    let owners = app.link_to("alice@a.example", "/api/revert_email/").await;
    let intruders = app.link_to("x@x.example", "/api/revert_email/").await;

    app.get(&app.path_of(&intruders))
        .await
        .expect(200, "Your email has been restored.");
    app.get(&app.path_of(&owners))
        .await
        .expect(200, "Your email has been restored.");

    let fresh = recover(&app, "alice", "alice@a.example").await;
    let profile = app.get_bearer("/api/profile_settings", &fresh).await;
    assert!(
        profile.body["data"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@a.example")
    );

    // And the other order: the owner first, then the intruder's link is dead.
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@a.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "x@x.example").await;
    let to_x = app.link_to("x@x.example", "/api/confirm_email/").await;
    app.get(&app.path_of(&to_x))
        .await
        .expect(200, "Your email has been confirmed.");
    app.change_email(&token, "y@y.example").await;
    let to_y = app.link_to("y@y.example", "/api/confirm_email/").await;
    app.get(&app.path_of(&to_y))
        .await
        .expect(200, "Your email has been confirmed.");
    let owners = app.link_to("alice@a.example", "/api/revert_email/").await;
    let intruders = app.link_to("x@x.example", "/api/revert_email/").await;
    app.get(&app.path_of(&owners))
        .await
        .expect(200, "Your email has been restored.");
    app.get(&app.path_of(&intruders))
        .await
        .expect(400, "user not found.");
}

#[tokio::test]
async fn a_reset_link_sent_to_the_old_address_dies_with_the_change() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "alice@new.example")
        .await
        .expect(200, "Check your email...");
    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");
    let reset = app.reset_token_for("alice@old.example").await;
    let link = app
        .link_to("alice@new.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(200, "Your email has been confirmed.");

    app.reset_password(&reset, "Th1rd-Passw0rd!")
        .await
        .expect(400, "user not found");
    app.login("alice", PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn an_unverified_address_gets_no_revert_link() {
    let app = TestApp::spawn().await;
    app.stored_user("alice", "typo@example.com", false).await;
    let token = app.token("alice", PASSWORD).await;

    app.change_email(&token, "alice@example.com")
        .await
        .expect(200, "Check your email...");

    let to_old = app.emails_to("typo@example.com").await;
    let notice = to_old.last().unwrap();
    assert!(notice.contains("Subject: Your email address is being changed"));
    assert!(!notice.contains("/revert_email/"));
}

#[tokio::test]
async fn a_new_password_cancels_a_pending_change_of_address() {
    // An intruder with the password asks for a change; the owner resets.
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "intruder@evil.example")
        .await
        .expect(200, "Check your email...");
    app.request_reset("alice").await;
    let reset = app.reset_token_for("alice@old.example").await;
    app.reset_password(&reset, "Th1rd-Passw0rd!")
        .await
        .expect(200, "Your password has been reset.");

    let link = app
        .link_to("intruder@evil.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(400, "user not found.");
}

#[tokio::test]
async fn a_password_change_cancels_a_pending_change_of_address() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "intruder@evil.example")
        .await
        .expect(200, "Check your email...");

    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": "Th1rd-Passw0rd!"}),
    )
    .await
    .expect(200, "Your password has been changed.");

    let link = app
        .link_to("intruder@evil.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(400, "user not found.");
    let export = app
        .post_bearer("/api/account_export", &token, &json!({"pwd": PASSWORD}))
        .await;
    assert_eq!(
        export.body["data"]["pending_email_change"],
        serde_json::Value::Null
    );
}
