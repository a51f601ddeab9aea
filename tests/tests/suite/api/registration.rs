//! `POST /api/registration`: field rules, uniqueness, the confirmation email and link.

use serde_json::json;
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
