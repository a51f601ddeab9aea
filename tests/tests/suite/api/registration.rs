//! `POST /api/registration`: field rules, uniqueness, the confirmation email and link.

use serde_json::{Value, json};
use tests::{PASSWORD, TestApp};

#[tokio::test]
async fn registration_emails_a_link_that_confirms_the_email() {
    let app = TestApp::spawn().await;

    app.register("Admin", "dmitriyz@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let token = app.token("admin", PASSWORD).await;
    let before = app.get_bearer("/api/profile_settings", &token).await;
    // The email links to the confirmation page; its button calls the API.
    let page = app.link_to("dmitriyz@example.com", "/confirm_email/").await;
    let link = app
        .link_to("dmitriyz@example.com", "/api/confirm_email/")
        .await;
    let confirm = app.get(&app.path_of(&link)).await;
    let after = app.get_bearer("/api/profile_settings", &token).await;

    assert!(page.starts_with(&format!("{}/confirm_email/", app.base)));
    assert_eq!(page.rsplit('/').next().unwrap().len(), 43);
    assert_eq!(before.body["data"]["is_email_verified"], false);
    confirm.expect(200, "Your email has been confirmed.");
    assert_eq!(after.body["data"]["is_email_verified"], true);
}

#[tokio::test]
async fn a_confirmation_link_works_once() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    let path = app.path_of(
        &app.link_to("alice@example.com", "/api/confirm_email/")
            .await,
    );

    app.get(&path)
        .await
        .expect(200, "Your email has been confirmed.");
    app.get(&path).await.expect(400, "user not found.");
}

#[tokio::test]
async fn a_confirmation_link_expires_after_a_day() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD).await;
    let path = app.path_of(
        &app.link_to("alice@example.com", "/api/confirm_email/")
            .await,
    );

    app.clock.advance(24 * 3600);

    app.get(&path).await.expect(400, "user not found.");
}

#[tokio::test]
async fn unknown_or_malformed_confirmation_tokens_are_not_found() {
    let app = TestApp::spawn().await;
    for token in [
        "A".repeat(43),
        "short".to_owned(),
        "A".repeat(44),
        "not-a-token".to_owned(),
    ] {
        app.get(&format!("/api/confirm_email/{token}"))
            .await
            .expect(400, "user not found.");
    }
}

#[tokio::test]
async fn usernames_with_bad_syntax_or_reserved_are_not_allowed() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(33);
    for (i, username) in [
        "ab",
        long.as_str(),
        "_lead",
        "sp ace",
        "ümlaut",
        "a/b",
        "root",
        "API",
        "System",
        "support",
        "postmaster",
        "abuse",
        "noreply",
    ]
    .into_iter()
    .enumerate()
    {
        app.register(username, &format!("u{i}@example.com"), PASSWORD)
            .await
            .expect(400, "username is not allowed.");
    }
    assert!(app.all_emails().await.is_empty());
}

#[tokio::test]
async fn usernames_are_unique_case_insensitively_and_shown_as_registered() {
    let app = TestApp::spawn().await;
    app.register("Admin", "first@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");

    app.register("ADMIN", "second@example.com", PASSWORD)
        .await
        .expect(409, "username is already taken.");
    let token = app.token("admin", PASSWORD).await;
    let profile = app.get_bearer("/api/profile_settings", &token).await;

    assert_eq!(profile.body["data"]["username"], "Admin");
    assert!(app.emails_to("second@example.com").await.is_empty());
}

#[tokio::test]
async fn bad_fields_are_rejected_with_a_message_naming_the_field() {
    let app = TestApp::spawn().await;
    let good = json!({
        "username": "bob", "full_name": "Bob B.", "email": "bob@example.com",
        "phone": null, "contacts": null, "pwd": PASSWORD,
    });
    let cases = [
        ("full_name", json!("   ")),
        ("full_name", json!("x".repeat(101))),
        ("full_name", json!("bad\u{7}name")),
        ("email", json!("not-an-email")),
        ("email", json!("a@localhost")),
        ("email", json!(format!("{}@example.com", "a".repeat(250)))),
        ("phone", json!("1".repeat(33))),
        ("phone", json!(12345)),
        ("contacts", json!("c".repeat(1001))),
        ("pwd", json!("1234")),
        ("pwd", json!("password")),
        ("pwd", json!("12345678")),
        ("pwd", json!("bob")),
        ("pwd", json!("x".repeat(129))),
        ("email", json!(null)),
        ("full_name", json!(7)),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value.clone();

        let resp = app.register_body(&body).await;

        assert_eq!(resp.status, 400, "{field}={value}: {:?}", resp.body);
        assert!(
            resp.msg().starts_with(field),
            "{field}={value}: {}",
            resp.msg()
        );
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("email");
    app.register_body(&missing)
        .await
        .expect(400, "email is required.");
    assert!(app.all_emails().await.is_empty());
    app.login("bob", PASSWORD, false)
        .await
        .expect(401, "wrong username or password");
}

#[tokio::test]
async fn phone_and_contacts_are_optional_strings() {
    let app = TestApp::spawn().await;
    let resp = app
        .register_body(&json!({
            "username": "carol", "full_name": "Carol", "email": "carol@example.com",
            "phone": "+1 555 0100", "contacts": "telegram: @carol", "pwd": PASSWORD,
        }))
        .await;
    resp.expect(200, "Check your email...");
    let token = app.token("carol", PASSWORD).await;
    let profile = app.get_bearer("/api/profile_settings", &token).await;
    assert_eq!(profile.body["data"]["phone"], "+1 555 0100");
    assert_eq!(profile.body["data"]["contacts"], "telegram: @carol");
}

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

#[tokio::test]
async fn undeliverable_addresses_are_refused_before_anything_is_written() {
    // Each of these was accepted, then refused by the mail path after the
    // account was written (500, and 409 on every retry).
    let app = TestApp::spawn().await;
    for email in [
        "\"a b\"@example.com",
        "jos\u{e9}@example.com",
        "\u{212A}im@example.com",
    ] {
        app.register("quoted", email, PASSWORD)
            .await
            .expect(400, "email is not a valid email address.");
    }

    app.register("quoted", "quoted@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
}

#[tokio::test]
async fn an_idn_domain_is_mailed_in_its_ascii_form_and_is_one_mailbox() {
    let app = TestApp::spawn().await;

    app.register("idn", "kim@b\u{fc}cher.example", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let link = app
        .link_to("kim@xn--bcher-kva.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(200, "Your email has been confirmed.");
    app.register("idn2", "KIM@B\u{dc}CHER.example", PASSWORD)
        .await
        .expect(200, "Check your email...");

    // The second address is the same mailbox, confirmed: it got the notice.
    let mail = app.emails_to("kim@xn--bcher-kva.example").await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    assert!(mail[0].contains("/confirm_email/"), "the confirmation");
    assert!(mail[1].contains("Someone tried to register"), "the notice");
}

#[tokio::test]
async fn a_registration_retried_after_its_write_landed_gets_its_answer_not_409() {
    // The first attempt's transaction was applied but its answer was lost
    // (a timeout, then 503): the account is in the store, unconfirmed.
    let app = TestApp::spawn().await;
    app.stored_user("retry", "retry@example.com", false).await;
    app.clock.advance(30);

    // The client retries the very same request.
    app.register("retry", "retry@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");

    let link = app
        .link_to("retry@example.com", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(200, "Your email has been confirmed.");
    // Anyone else asking for the name still finds it taken.
    app.register("retry", "other@example.com", PASSWORD)
        .await
        .expect(409, "username is already taken.");
    app.register("retry", "retry@example.com", "An0ther-Passw0rd!")
        .await
        .expect(409, "username is already taken.");
}

#[tokio::test]
async fn a_late_or_confirmed_repeat_registration_is_409() {
    let app = TestApp::spawn().await;
    app.stored_user("late", "late@example.com", false).await;
    app.stored_user("done", "done@example.com", true).await;
    app.clock.advance(301);

    for (username, email) in [("late", "late@example.com"), ("done", "done@example.com")] {
        app.register(username, email, PASSWORD)
            .await
            .expect(409, "username is already taken.");
    }
}
