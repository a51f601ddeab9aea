//! Enrolment, status, new recovery codes, turning off, notices.

use serde_json::json;
use shared::ports::Clock;
use tests::{PASSWORD, TestApp};

use super::{code_at, enrolled, password_step, second_step, setup, status};

#[tokio::test]
async fn a_setup_without_its_confirmation_changes_nothing() {
    let app = TestApp::spawn().await;
    app.register_confirmed("pending", "pending@example.com")
        .await;
    let token = app.token("pending", PASSWORD).await;
    assert_eq!(
        status(&app, &token).await,
        json!({"totp": false, "recovery_codes_left": 0})
    );
    let first = setup(&app, &token, &json!({ "pwd": PASSWORD })).await;
    // Sign-in does not ask for a code; the status does not change.
    app.login("pending", PASSWORD, false)
        .await
        .expect(200, "success");
    assert_eq!(status(&app, &token).await["totp"], false);
    // A newer setup replaces the unconfirmed one: the first key's code no
    // longer confirms.
    let second = setup(&app, &token, &json!({ "pwd": PASSWORD })).await;
    assert_ne!(first, second);
    app.post_bearer(
        "/api/mfa/totp/confirm",
        &token,
        &json!({ "code": code_at(&first, app.clock.now()) }),
    )
    .await
    .expect(401, "wrong code");
    app.post_bearer(
        "/api/mfa/totp/confirm",
        &token,
        &json!({ "code": code_at(&second, app.clock.now()) }),
    )
    .await
    .expect(200, "Two-factor sign-in is on.");
}

#[tokio::test]
async fn setup_asks_for_the_password_and_confirm_for_a_setup() {
    let app = TestApp::spawn().await;
    app.register_confirmed("asks", "asks@example.com").await;
    let token = app.token("asks", PASSWORD).await;
    app.post_bearer("/api/mfa/totp/setup", &token, &json!({ "pwd": "wrong" }))
        .await
        .expect(401, "wrong password");
    app.post_bearer("/api/mfa/totp/setup", &token, &json!({}))
        .await
        .expect(400, "pwd is required.");
    app.post_bearer(
        "/api/mfa/totp/confirm",
        &token,
        &json!({ "code": "123456" }),
    )
    .await
    .expect(400, "no two-factor setup to confirm.");
    app.post("/api/mfa/totp/setup", &json!({ "pwd": PASSWORD }))
        .await
        .expect(401, "authentication required");
    for path in ["/api/mfa/recovery_codes", "/api/mfa/disable"] {
        app.post_bearer(path, &token, &json!({ "pwd": PASSWORD, "code": "123456" }))
            .await
            .expect(400, "two-factor sign-in is off.");
    }
}

#[tokio::test]
async fn enrolment_answers_ten_recovery_codes_and_mails_a_notice() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "enrols").await;
    assert_eq!(e.codes.len(), 10);
    let distinct: std::collections::HashSet<_> = e.codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    for code in &e.codes {
        // 12 characters of a 32-letter alphabet: 60 bits each.
        let plain: String = code.chars().filter(|c| *c != '-').collect();
        assert_eq!(plain.len(), 12, "{code}");
    }
    assert_eq!(
        status(&app, &e.token).await,
        json!({"totp": true, "recovery_codes_left": 10})
    );
    let mails = app.emails_to("enrols@example.com").await;
    assert!(
        mails
            .last()
            .unwrap()
            .contains("Two-factor sign-in was just turned on"),
        "{mails:?}"
    );
    // Neither the key nor a code is in any mail.
    for mail in &mails {
        assert!(!mail.contains(&e.secret));
        assert!(e.codes.iter().all(|c| !mail.contains(c.as_str())));
    }
}

#[tokio::test]
async fn new_recovery_codes_void_the_old_ones() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "renews").await;
    app.post_bearer(
        "/api/mfa/recovery_codes",
        &e.token,
        &json!({ "pwd": PASSWORD }),
    )
    .await
    .expect(400, "code is required.");
    let resp = app
        .post_bearer(
            "/api/mfa/recovery_codes",
            &e.token,
            &json!({ "pwd": PASSWORD, "code": e.code(&app) }),
        )
        .await;
    resp.expect(200, "New recovery codes made; the old ones no longer work.");
    let fresh = resp.body["data"]["recovery_codes"].as_array().unwrap();
    assert_eq!(fresh.len(), 10);
    assert!(
        app.emails_to("renews@example.com")
            .await
            .last()
            .unwrap()
            .contains("New recovery codes were just made")
    );
    let mfa_token = password_step(&app, "renews", false).await;
    second_step(&app, &mfa_token, &e.codes[1])
        .await
        .expect(401, "wrong code");
    second_step(&app, &mfa_token, fresh[0].as_str().unwrap())
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn turning_it_off_needs_a_code_and_then_sign_in_needs_none() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "disables").await;
    app.post_bearer("/api/mfa/disable", &e.token, &json!({ "pwd": PASSWORD }))
        .await
        .expect(400, "code is required.");
    app.post_bearer(
        "/api/mfa/disable",
        &e.token,
        &json!({ "pwd": PASSWORD, "code": "000000" }),
    )
    .await
    .expect(401, "wrong code");
    app.post_bearer(
        "/api/mfa/disable",
        &e.token,
        &json!({ "pwd": "wrong", "code": e.code(&app) }),
    )
    .await
    .expect(401, "wrong password");
    app.post_bearer(
        "/api/mfa/disable",
        &e.token,
        &json!({ "pwd": PASSWORD, "code": e.code(&app) }),
    )
    .await
    .expect(200, "Two-factor sign-in is off.");
    assert!(
        app.emails_to("disables@example.com")
            .await
            .last()
            .unwrap()
            .contains("Two-factor sign-in was just turned off")
    );
    assert_eq!(
        status(&app, &e.token).await,
        json!({"totp": false, "recovery_codes_left": 0})
    );
    app.login("disables", PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn a_change_of_factors_whose_notice_cannot_be_sent_is_not_made() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "mailless").await;
    app.mail_down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let body = json!({ "pwd": PASSWORD, "code": e.codes[0] });
    let resp = app.post_bearer("/api/mfa/disable", &e.token, &body).await;
    assert_eq!(resp.status, 503, "{:?}", resp.body);
    app.mail_down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    // Nothing changed, and the recovery code was not spent on it: the
    // retry with the same code goes through.
    assert_eq!(
        status(&app, &e.token).await,
        json!({"totp": true, "recovery_codes_left": 10})
    );
    app.post_bearer("/api/mfa/disable", &e.token, &body)
        .await
        .expect(200, "Two-factor sign-in is off.");
}
