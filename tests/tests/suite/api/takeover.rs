//! The takeover the second review found, and what closes it (the takeover
//! issue, items 1, 2, 4 and 5): notices no cap can drop, a revert that
//! recovers the account, registrations that reveal nothing, mail budgets
//! that count the mailbox.

use std::sync::atomic::Ordering;

use serde_json::json;
use tests::{NEW_PASSWORD, PASSWORD, TestApp};

const INTRUDER_PASSWORD: &str = "Intrud3r-Passw0rd!";

/// The review's scenario: the victim's address budget filled by ten
/// registrations, then a signed-in intruder changes the address.
async fn filled_budget_then_change(app: &TestApp) -> String {
    app.register_confirmed("victim", "victim@example.com").await;
    for i in 0..10 {
        app.register(&format!("filler{i}"), "victim@example.com", PASSWORD)
            .await
            .expect(200, "Check your email...");
    }
    let token = app.token("victim", PASSWORD).await;
    let before = app.emails_to("victim@example.com").await.len();
    app.change_email(&token, "intruder@evil.example")
        .await
        .expect(200, "Check your email...");
    let after = app.emails_to("victim@example.com").await;
    assert_eq!(after.len(), before + 1, "the owner heard of the change");
    assert!(after.last().unwrap().contains("/revert_email/"));
    token
}

#[tokio::test]
async fn a_change_of_address_is_announced_whatever_filled_the_address_budget() {
    let app = TestApp::spawn().await;
    filled_budget_then_change(&app).await;

    // The intruder confirms; the owner's link still restores the address.
    let confirm = app
        .link_to("intruder@evil.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&confirm))
        .await
        .expect(200, "Your email has been confirmed.");
    let revert = app
        .link_to("victim@example.com", "/api/revert_email/")
        .await;
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    app.request_reset("victim")
        .await
        .expect(200, "Check your email...");
    assert!(
        app.emails_to("intruder@evil.example")
            .await
            .iter()
            .all(|m| !m.contains("/reset_password/")),
        "no reset link ever reaches the intruder"
    );
}

#[tokio::test]
async fn a_revert_is_a_recovery() {
    let app = TestApp::spawn().await;
    app.register_confirmed("victim", "victim@example.com").await;
    // The intruder knows the password, changes it and the address.
    let intruder = app.token("victim", PASSWORD).await;
    app.request_reset("victim").await;
    let stale_reset = app.reset_token_for("victim@example.com").await;
    app.change_email(&intruder, "intruder@evil.example")
        .await
        .expect(200, "Check your email...");
    let revert = app
        .link_to("victim@example.com", "/api/revert_email/")
        .await;
    let confirm = app
        .link_to("intruder@evil.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&confirm))
        .await
        .expect(200, "Your email has been confirmed.");
    let intruder = app.token("victim", PASSWORD).await;
    app.post_bearer(
        "/api/change_password",
        &intruder,
        &json!({"pwd": PASSWORD, "new_pwd": INTRUDER_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");
    app.post_bearer(
        "/api/change_email",
        &intruder,
        &json!({"pwd": INTRUDER_PASSWORD, "new_email": "second@evil.example"}),
    )
    .await
    .expect(200, "Check your email...");
    let pending = app
        .link_to("second@evil.example", "/api/confirm_email/")
        .await;

    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");

    // The password the intruder knows answers exactly as a wrong one.
    let known = app.login("victim", INTRUDER_PASSWORD, false).await;
    let wrong = app.login("victim", "Wh0lly-Wr0ng-Guess!", false).await;
    known.expect(401, "wrong username or password");
    assert_eq!(known.body, wrong.body);
    app.get_bearer("/api/profile_settings", &intruder)
        .await
        .expect(401, "authentication required");
    // Every other link is dead: the pending change, an earlier reset link.
    app.get(&app.path_of(&pending))
        .await
        .expect(400, "user not found.");
    app.reset_password(&stale_reset, NEW_PASSWORD)
        .await
        .expect(400, "user not found");
    // The replaced address is told; the restored one has the way back in.
    let told = app.emails_to("intruder@evil.example").await;
    assert!(
        told.last()
            .unwrap()
            .contains("Subject: This address was removed from an account"),
        "{told:?}"
    );
    assert!(told.iter().all(|m| !m.contains("/reset_password/")));
    let restored = app.emails_to("victim@example.com").await;
    let mail = restored.last().unwrap();
    assert!(
        mail.contains("Subject: Your email address was restored"),
        "{mail}"
    );
    let reset = app.reset_token_for("victim@example.com").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    let fresh = app.token("victim", NEW_PASSWORD).await;
    let profile = app.get_bearer("/api/profile_settings", &fresh).await;
    assert_eq!(profile.body["data"]["email"], "v****m@example.com");
    assert_eq!(profile.body["data"]["is_email_verified"], true);
}

#[tokio::test]
async fn a_revert_untrusts_every_device() {
    let app = TestApp::spawn().await;
    app.register_confirmed("victim", "victim@example.com").await;
    let owner = app.peer("127.0.0.3");
    let login = owner.login("victim", PASSWORD, None).await;
    let device = login.body["data"]["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.change_email(&login.token(), "other@example.org")
        .await
        .expect(200, "Check your email...");
    let revert = app
        .link_to("victim@example.com", "/api/revert_email/")
        .await;
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    let reset = app.reset_token_for("victim@example.com").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");

    for _ in 0..5 {
        app.peer("127.0.0.2")
            .login("victim", "Wr0ng-Passw0rd!", None)
            .await;
    }

    // The device token from before the revert is no longer trusted.
    owner
        .login("victim", NEW_PASSWORD, Some(&device))
        .await
        .expect(429, "too many failed login attempts, try again later.");
}

#[tokio::test]
async fn a_revert_whose_mail_cannot_be_sent_changes_nothing() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "alice@new.example")
        .await
        .expect(200, "Check your email...");
    let revert = app.link_to("alice@example.com", "/api/revert_email/").await;
    app.mail_down.store(true, Ordering::SeqCst);

    app.get(&app.path_of(&revert))
        .await
        .expect(503, "service temporarily unavailable, try again later");

    app.mail_down.store(false, Ordering::SeqCst);
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(200, "success");
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
}

#[tokio::test]
async fn a_taken_username_costs_the_same_whatever_the_address() {
    let app = TestApp::spawn().await;
    app.register("kim", "kim@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    app.register("lee", "lee@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let failures = |name: &'static str| {
        let app = &app;
        async move {
            let username = shared::domain::Username::parse(name).unwrap();
            let state = app.app.store.login_state(&username, None, 0).await.unwrap();
            state.failures.count
        }
    };

    // A guess with the account's address, and one with another address.
    app.register("kim", "kim@example.com", "An0ther-Passw0rd!")
        .await
        .expect(409, "username is already taken.");
    app.register("lee", "someone@example.com", "An0ther-Passw0rd!")
        .await
        .expect(409, "username is already taken.");

    assert_eq!(failures("kim").await, 1);
    assert_eq!(failures("lee").await, 1, "counted whatever the address");
}

#[tokio::test]
async fn the_address_budget_counts_the_mailbox_not_its_spelling() {
    let app = TestApp::options()
        .env("ADDRESS_MAIL_LIMIT", "2")
        .spawn()
        .await;
    let spellings = [
        "victim+1@gmail.com",
        "v.i.c.t.i.m@gmail.com",
        "Victim@googlemail.com",
    ];
    for (i, email) in spellings.iter().enumerate() {
        app.register(&format!("flood{i}"), email, PASSWORD)
            .await
            .expect(200, "Check your email...");
    }

    let mut sent = 0;
    for email in spellings {
        sent += app.emails_to(email).await.len();
    }
    assert_eq!(sent, 2, "one mailbox, one budget");
}

#[tokio::test]
async fn requests_that_send_mail_have_a_budget_per_client() {
    let app = TestApp::options()
        .env("CLIENT_MAIL_LIMIT", "2")
        .spawn()
        .await;
    app.given_user("alice", "alice@example.com").await;
    let flooder = app.peer("127.0.0.2");
    flooder
        .register("first", "first@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    flooder
        .request_reset("alice")
        .await
        .expect(200, "Check your email...");

    flooder
        .request_reset("alice")
        .await
        .expect(429, "too many requests, try again later.");
    flooder
        .register("second", "second@example.com", PASSWORD)
        .await
        .expect(429, "too many requests, try again later.");
    app.peer("127.0.0.3")
        .request_reset("alice")
        .await
        .expect(200, "Check your email...");
}

#[tokio::test]
async fn mail_to_an_unconfirmed_address_carries_nothing_the_requester_chose() {
    let app = TestApp::spawn().await;
    app.register("paypal-verify.com", "someone@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    app.request_reset("paypal-verify.com").await;
    let token = app.token("paypal-verify.com", PASSWORD).await;
    app.change_email(&token, "other@example.com")
        .await
        .expect(200, "Check your email...");

    let mut mails = app.emails_to("someone@example.com").await;
    mails.extend(app.emails_to("other@example.com").await);
    assert_eq!(
        mails.len(),
        4,
        "confirmation, reset, change notice and link"
    );
    for mail in &mails {
        assert!(!mail.to_ascii_lowercase().contains("paypal"), "{mail}");
    }
}

#[tokio::test]
async fn a_replaced_address_that_refuses_mail_does_not_stop_the_revert() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "intruder@evil.example")
        .await
        .expect(200, "Check your email...");
    let confirm = app
        .link_to("intruder@evil.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&confirm))
        .await
        .expect(200, "Your email has been confirmed.");
    let revert = app.link_to("alice@example.com", "/api/revert_email/").await;
    // Only the restored address's mail must go out for the revert to happen.
    app.fail_mail_to("intruder@evil.example");

    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    assert!(
        app.emails_to("alice@example.com")
            .await
            .last()
            .unwrap()
            .contains("/reset_password/")
    );
}
