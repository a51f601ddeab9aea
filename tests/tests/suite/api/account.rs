//! The signed-in account: editing the profile, changing the password,
//! resending the confirmation link, deleting the account, exporting it.

use serde_json::{Value, json};
use tests::{NEW_PASSWORD, PASSWORD, TestApp};

#[tokio::test]
async fn editing_the_profile_changes_only_the_given_fields_and_answers_the_profile() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;

    let edited = app
        .post_bearer(
            "/api/profile_settings",
            &token,
            &json!({"full_name": "  Alice Liddell ", "phone": "+44 20 7946 0000"}),
        )
        .await;
    let cleared = app
        .post_bearer("/api/profile_settings", &token, &json!({"phone": null}))
        .await;

    edited.expect(200, "success");
    assert_eq!(edited.body["data"]["full_name"], "Alice Liddell");
    assert_eq!(edited.body["data"]["phone"], "+44 20 7946 0000");
    cleared.expect(200, "success");
    assert_eq!(cleared.body["data"]["full_name"], "Alice Liddell", "kept");
    assert_eq!(cleared.body["data"]["phone"], Value::Null);
    let shown = app.get_bearer("/api/profile_settings", &token).await;
    assert_eq!(
        shown.body["data"], cleared.body["data"],
        "exactly as GET shows it"
    );
}

#[tokio::test]
async fn profile_edits_follow_the_registration_rules() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    for (body, msg) in [
        (
            json!({"full_name": ""}),
            "full_name must be 1-100 characters.",
        ),
        (json!({"full_name": null}), "full_name is required."),
        (json!({"phone": 5}), "phone must be a string or null."),
        (
            json!({"phone": "1".repeat(33)}),
            "phone must be 0-32 characters.",
        ),
        (
            json!({}),
            "give at least one of full_name, phone, contacts.",
        ),
    ] {
        app.post_bearer("/api/profile_settings", &token, &body)
            .await
            .expect(400, msg);
    }
    app.post("/api/profile_settings", &json!({"full_name": "X"}))
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let here = app.token("alice", PASSWORD).await;
    let elsewhere = app.token("alice", PASSWORD).await;
    app.request_reset("alice").await;
    let reset = app.reset_token_for("alice@example.com").await;

    app.post_bearer(
        "/api/change_password",
        &here,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");

    app.get_bearer("/api/profile_settings", &here)
        .await
        .expect(200, "success");
    app.get_bearer("/api/profile_settings", &elsewhere)
        .await
        .expect(401, "authentication required");
    app.login("alice", PASSWORD, false)
        .await
        .expect(401, "wrong username or password");
    app.login("alice", NEW_PASSWORD, false)
        .await
        .expect(200, "success");
    app.reset_password(&reset, "Th1rd-Passw0rd!")
        .await
        .expect(400, "user not found");
    let notice = app.emails_to("alice@example.com").await;
    assert!(
        notice
            .last()
            .unwrap()
            .contains("Subject: Your password was changed"),
        "{notice:?}"
    );
}

#[tokio::test]
async fn the_fifth_wrong_password_in_a_row_ends_the_session_and_locks_nobody_out() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    let wrong = json!({"pwd": "Wr0ng-Passw0rd!", "new_pwd": NEW_PASSWORD});
    for _ in 0..4 {
        app.post_bearer("/api/change_password", &token, &wrong)
            .await
            .expect(401, "wrong password");
    }
    // A right one resets the count: four more wrong ones are allowed.
    app.post_bearer(
        "/api/change_email",
        &token,
        &json!({"pwd": PASSWORD, "new_email": "alice@new.example"}),
    )
    .await
    .expect(200, "Check your email...");
    for _ in 0..4 {
        app.post_bearer("/api/change_password", &token, &wrong)
            .await
            .expect(401, "wrong password");
    }
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(200, "success");

    // The fifth in a row answers as a wrong password and ends the session.
    app.post_bearer("/api/change_password", &token, &wrong)
        .await
        .expect(401, "wrong password");

    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(401, "authentication required");
    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(401, "authentication required");
    // Nothing of it reaches the username's login lockout.
    app.login("alice", PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn strangers_failed_logins_never_stop_a_signed_in_owner() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    for _ in 0..6 {
        app.login("alice", "Wr0ng-Passw0rd!", false).await;
    }
    app.login("alice", PASSWORD, false)
        .await
        .expect(429, "too many failed login attempts, try again later.");

    // Every route that asks for the password still takes the right one.
    app.post_bearer("/api/account_export", &token, &json!({"pwd": PASSWORD}))
        .await
        .expect(200, "success");
    app.post_bearer(
        "/api/change_email",
        &token,
        &json!({"pwd": PASSWORD, "new_email": "alice@new.example"}),
    )
    .await
    .expect(200, "Check your email...");
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
}

#[tokio::test]
async fn a_bad_new_password_is_400_and_costs_no_attempt() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    for _ in 0..6 {
        app.post_bearer(
            "/api/change_password",
            &token,
            &json!({"pwd": "Wr0ng-Passw0rd!", "new_pwd": "password"}),
        )
        .await
        .expect(400, "new_pwd is too common.");
    }
    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");
}

#[tokio::test]
async fn resending_a_confirmation_link_voids_the_earlier_ones() {
    let app = TestApp::spawn().await;
    app.register("alice", "alice@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let first = app
        .link_to("alice@example.com", "/api/confirm_email/")
        .await;
    let token = app.token("alice", PASSWORD).await;

    app.post_bearer("/api/resend_confirmation", &token, &json!({}))
        .await
        .expect(200, "Check your email...");
    let second = app
        .link_to("alice@example.com", "/api/confirm_email/")
        .await;

    assert_ne!(first, second);
    app.get(&app.path_of(&first))
        .await
        .expect(400, "user not found.");
    app.get(&app.path_of(&second))
        .await
        .expect(200, "Your email has been confirmed.");
    app.post_bearer("/api/resend_confirmation", &token, &json!({}))
        .await
        .expect(400, "email is already confirmed.");
}

#[tokio::test]
async fn resent_links_are_capped_like_reset_emails() {
    let app = TestApp::options()
        .env("RESET_EMAIL_LIMIT", "2")
        .spawn()
        .await;
    app.stored_user("alice", "alice@example.com", false).await;
    let token = app.token("alice", PASSWORD).await;
    for _ in 0..2 {
        app.post_bearer("/api/resend_confirmation", &token, &json!({}))
            .await
            .expect(200, "Check your email...");
    }
    let capped = app
        .post_bearer("/api/resend_confirmation", &token, &json!({}))
        .await;
    capped.expect(429, "too many emails, try again later.");
    assert!(capped.header("retry-after").is_some());
    assert_eq!(app.emails_to("alice@example.com").await.len(), 2);
}

#[tokio::test]
async fn deleting_an_account_ends_everything_and_frees_its_name_and_address() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let here = app.token("alice", PASSWORD).await;
    let elsewhere = app.token("alice", PASSWORD).await;
    app.request_reset("alice").await;
    let reset = app.reset_token_for("alice@example.com").await;

    let deleted = app
        .post_bearer("/api/delete_account", &here, &json!({"pwd": PASSWORD}))
        .await;

    deleted.expect(200, "Your account has been deleted.");
    assert!(
        deleted
            .set_cookie("access_token_cookie")
            .contains("Max-Age=0")
    );
    for token in [&here, &elsewhere] {
        app.get_bearer("/api/profile_settings", token)
            .await
            .expect(401, "authentication required");
    }
    app.login("alice", PASSWORD, false)
        .await
        .expect(401, "wrong username or password");
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(400, "user not found");
    let mails = app.emails_to("alice@example.com").await;
    assert!(
        mails
            .last()
            .unwrap()
            .contains("Subject: Your account was deleted")
    );
    // The name and the address are free again; nothing old works on the new account.
    app.register_confirmed("alice", "alice@example.com").await;
    let new = app.token("alice", PASSWORD).await;
    app.get_bearer("/api/profile_settings", &here)
        .await
        .expect(401, "authentication required");
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(400, "user not found");
    app.get_bearer("/api/profile_settings", &new)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn deleting_needs_the_password() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;

    app.post_bearer(
        "/api/delete_account",
        &token,
        &json!({"pwd": "Wr0ng-Passw0rd!"}),
    )
    .await
    .expect(401, "wrong password");
    app.post_bearer("/api/delete_account", &token, &json!({}))
        .await
        .expect(400, "pwd is required.");

    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn the_export_holds_everything_stored_but_no_hashes() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    app.login("alice", PASSWORD, true).await;
    app.request_reset("alice").await;
    app.post_bearer(
        "/api/change_email",
        &token,
        &json!({"pwd": PASSWORD, "new_email": "alice@new.example"}),
    )
    .await
    .expect(200, "Check your email...");

    app.get_bearer("/api/account_export", &token)
        .await
        .expect(405, "method not allowed");
    app.post_bearer("/api/account_export", &token, &json!({}))
        .await
        .expect(400, "pwd is required.");
    app.post_bearer(
        "/api/account_export",
        &token,
        &json!({"pwd": "Wr0ng-Passw0rd!"}),
    )
    .await
    .expect(401, "wrong password");
    let export = app
        .post_bearer("/api/account_export", &token, &json!({"pwd": PASSWORD}))
        .await;

    export.expect(200, "success");
    let data = &export.body["data"];
    assert_eq!(data["profile"]["username"], "alice");
    assert_eq!(data["profile"]["email"], "alice@example.com", "unmasked");
    assert_eq!(data["profile"]["is_email_verified"], true);
    assert_eq!(data["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(data["pending_email_change"]["email"], "alice@new.example");
    let mut purposes: Vec<_> = data["outstanding_links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["purpose"].as_str().unwrap().to_owned())
        .collect();
    purposes.sort();
    assert_eq!(purposes, ["change_email", "reset_password", "revert_email"]);
    let text = export.body.to_string();
    assert!(!text.contains("argon2"), "no password hash");
    let hexes = text
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() >= 32)
        .count();
    assert_eq!(hexes, 0, "no token hashes: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_password_checks_from_one_session_are_counted_one_at_a_time() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;

    let tries: Vec<_> = (0..12)
        .map(|i| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                app.post_bearer(
                    "/api/change_password",
                    &token,
                    &json!({"pwd": format!("Wr0ng-Guess-{i}!"), "new_pwd": NEW_PASSWORD}),
                )
                .await
            })
        })
        .collect();
    let mut checked = 0;
    for t in tries {
        let resp = t.await.unwrap();
        match (resp.status, resp.msg()) {
            (401, "wrong password") => checked += 1,
            (401, "authentication required") | (429, _) => {}
            other => panic!("{other:?}"),
        }
    }

    assert!(checked <= 5, "{checked} passwords checked");
    // One at a time from here: the session ends with exactly the fifth.
    loop {
        let resp = app
            .post_bearer(
                "/api/change_password",
                &token,
                &json!({"pwd": "Wr0ng-Guess-late!", "new_pwd": NEW_PASSWORD}),
            )
            .await;
        if resp.msg() == "authentication required" {
            break;
        }
        resp.expect(401, "wrong password");
        checked += 1;
    }
    assert_eq!(checked, 5, "the fifth wrong password ended the session");
}
