//! What registration tells and mails: nothing about whether an address has
//! an account, links from configuration, multipart mail without the
//! password, and the per-mailbox budget.

use serde_json::{Value, json};
use tests::{PASSWORD, TestApp};

/// Everything a client can see of one account: the registration's answer,
/// a login, the profile, a repeated registration, a reset request.
async fn what_a_client_sees(app: &TestApp, username: &str, email: &str) -> Vec<(u16, Value)> {
    let registered = app.register(username, email, PASSWORD).await;
    let login = app.login(username, PASSWORD, false).await;
    let mut profile = app
        .get_bearer("/api/profile_settings", &login.token())
        .await;
    profile.body["data"]["username"] = Value::Null;
    profile.body["data"]["email"] = Value::Null;
    let again = app
        .register(username, "someone@example.org", "An0ther-Passw0rd!")
        .await;
    let reset = app.request_reset(username).await;
    [registered, login, profile, again, reset]
        .into_iter()
        .map(|r| {
            let mut body = r.body;
            body["data"]["token"] = Value::Null;
            body["data"]["device_token"] = Value::Null;
            body["data"]["csrf_token"] = Value::Null;
            (r.status, body)
        })
        .collect()
}

#[tokio::test]
async fn registration_does_not_tell_whether_an_address_has_an_account() {
    let app = TestApp::spawn().await;
    app.register_confirmed("owner", "owner@example.com").await;

    let taken = what_a_client_sees(&app, "intruder", "OWNER@Example.com").await;
    let fresh = what_a_client_sees(&app, "newcomer", "newcomer@example.com").await;

    assert_eq!(taken, fresh);
    assert_eq!(taken[0].0, 200);
    assert_eq!(taken[0].1["msg"], "Check your email...");
    assert_eq!(taken[1].0, 200, "an unconfirmed account can log in");
    assert_eq!(taken[2].1["data"]["is_email_verified"], false);
    assert_eq!(taken[3].0, 409);
    // The address's owner got a notice, never a link for the intruder's account.
    let mails = app.emails_to("owner@example.com").await;
    assert_eq!(
        mails.len(),
        3,
        "the owner's confirmation, the notice, the intruder's reset link"
    );
    assert!(mails[2].contains("Subject: Reset your password"));
    assert!(mails[1].contains("Subject: Someone tried to register with your address"));
    assert!(mails[1].contains("To: OWNER@Example.com"));
    assert!(!mails[1].contains("/confirm_email/"));
}

#[tokio::test]
async fn an_unconfirmed_account_cannot_hold_an_address() {
    let app = TestApp::spawn().await;
    // Someone registers first with another person's address...
    app.register("squatter", "victim@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let squatters_link = app
        .link_to("victim@example.com", "/api/confirm_email/")
        .await;

    // ...and the address's owner can still register and confirm it.
    app.register_confirmed("victim", "Victim@Example.com").await;

    app.get(&app.path_of(&squatters_link))
        .await
        .expect(409, "email is already confirmed for another account.");
    let squatter = app.token("squatter", PASSWORD).await;
    let profile = app.get_bearer("/api/profile_settings", &squatter).await;
    assert_eq!(profile.body["data"]["is_email_verified"], false);
    // A reset link for the squatter's account (it goes to the owner's
    // inbox, counted against the address's cap) cannot claim the address.
    app.request_reset("squatter")
        .await
        .expect(200, "Check your email...");
    let reset = app.reset_token_for("victim@example.com").await;
    app.reset_password(&reset, "An0ther-Passw0rd!")
        .await
        .expect(200, "Your password has been reset.");
    let squatter = app.token("squatter", "An0ther-Passw0rd!").await;
    let profile = app.get_bearer("/api/profile_settings", &squatter).await;
    assert_eq!(profile.body["data"]["is_email_verified"], false);
}

#[tokio::test]
async fn reset_requests_do_not_tell_whether_another_account_confirmed_the_address() {
    let app = TestApp::spawn().await;
    app.register_confirmed("owner", "victim@example.com").await;
    app.register("probe1", "victim@example.com", PASSWORD).await;
    app.register("probe2", "fresh@example.com", PASSWORD).await;

    let mut answers = Vec::new();
    for probe in ["probe1", "probe2"] {
        let mut seen = Vec::new();
        for _ in 0..4 {
            let r = app.request_reset(probe).await;
            seen.push((r.status, r.msg().to_owned()));
        }
        answers.push(seen);
    }

    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0][3].0, 429, "{answers:?}");
}

#[tokio::test]
async fn a_repeated_registration_cannot_test_passwords_faster_than_login() {
    let app = TestApp::spawn().await;
    app.stored_user("target", "target@example.com", false).await;
    for _ in 0..5 {
        app.register("target", "target@example.com", "Wr0ng-Guess-1!")
            .await
            .expect(409, "username is already taken.");
    }

    // The right password now finds the username locked, like a login.
    app.register("target", "target@example.com", PASSWORD)
        .await
        .expect(409, "username is already taken.");
    app.login("target", PASSWORD, false)
        .await
        .expect(429, "too many failed login attempts, try again later.");
}

#[tokio::test]
async fn links_come_from_configuration_not_from_the_host_header() {
    let app = TestApp::spawn().await;

    app.send(
        app.request("POST", "/api/registration")
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .json(&json!({
                "username": "dave", "full_name": "Dave", "email": "dave@example.com",
                "phone": null, "contacts": null, "pwd": PASSWORD,
            })),
    )
    .await
    .expect(200, "Check your email...");

    let mail = &app.emails_to("dave@example.com").await[0];
    assert!(!mail.contains("evil.example"));
    assert!(
        app.link_to("dave@example.com", "confirm_email")
            .await
            .starts_with(&app.base)
    );
}

#[tokio::test]
async fn emails_are_multipart_and_never_contain_the_password() {
    let app = TestApp::spawn().await;
    app.register("erin", "erin@example.com", PASSWORD).await;
    app.request_reset("erin").await;

    let mails = app.emails_to("erin@example.com").await;

    assert_eq!(mails.len(), 2);
    for mail in mails {
        assert!(mail.contains("multipart/alternative"));
        assert!(mail.contains("text/plain") && mail.contains("text/html"));
        assert!(!mail.contains(PASSWORD));
    }
}

#[tokio::test]
async fn mail_to_one_address_is_capped_but_answered_the_same() {
    let app = TestApp::options()
        .env("ADDRESS_MAIL_LIMIT", "2")
        .spawn()
        .await;
    // The owner's link is the first mail of the hour.
    app.register_confirmed("owner", "owner@example.com").await;

    let answers = [
        app.register("intruder1", "owner@example.com", PASSWORD)
            .await,
        app.register("intruder2", "owner@example.com", PASSWORD)
            .await,
        app.register("intruder3", "OWNER@example.com", PASSWORD)
            .await,
    ];
    app.clock.advance(3600);
    app.register("intruder4", "owner@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");

    for answer in &answers {
        answer.expect(200, "Check your email...");
    }
    let mails = app.emails_to("owner@example.com").await;
    let notices = mails
        .iter()
        .filter(|m| m.contains("Someone tried to register"))
        .count();
    assert_eq!((mails.len(), notices), (3, 2), "two an hour in all");
}

#[tokio::test]
async fn accounts_naming_one_unconfirmed_address_cannot_flood_it() {
    let app = TestApp::options()
        .env("ADDRESS_MAIL_LIMIT", "3")
        .spawn()
        .await;
    for i in 0..3 {
        app.register(&format!("flood{i}"), "inbox@example.com", PASSWORD)
            .await
            .expect(200, "Check your email...");
    }

    app.register("flood3", "inbox@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    // Answered as usual (the cap is silent: a 429 would tell that flood0
    // names this address), but nothing more is sent.
    app.request_reset("flood0")
        .await
        .expect(200, "Check your email...");
    assert_eq!(app.emails_to("inbox@example.com").await.len(), 3);
}
