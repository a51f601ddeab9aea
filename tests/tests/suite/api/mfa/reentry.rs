//! Everywhere a password is asked again, an account with TOTP on gives a
//! code too; wrong codes count like wrong passwords inside the session.

use serde_json::json;
use shared::ports::Clock;
use tests::{NEW_PASSWORD, PASSWORD, TestApp};

use super::{code_at, enrolled, setup, status};

#[tokio::test]
async fn every_re_entered_password_needs_a_code_too() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "reenters").await;
    let bodies = [
        (
            "/api/change_password",
            json!({ "pwd": PASSWORD, "new_pwd": NEW_PASSWORD }),
        ),
        (
            "/api/change_email",
            json!({ "pwd": PASSWORD, "new_email": "x@example.com" }),
        ),
        ("/api/delete_account", json!({ "pwd": PASSWORD })),
        ("/api/account_export", json!({ "pwd": PASSWORD })),
        ("/api/mfa/totp/setup", json!({ "pwd": PASSWORD })),
    ];
    for (path, body) in &bodies {
        app.post_bearer(path, &e.token, body)
            .await
            .expect(400, "code is required.");
    }
    // With a code: the export answers; the code is then used.
    let code = e.code(&app);
    app.post_bearer(
        "/api/account_export",
        &e.token,
        &json!({ "pwd": PASSWORD, "code": code }),
    )
    .await
    .expect(200, "success");
    app.post_bearer(
        "/api/account_export",
        &e.token,
        &json!({ "pwd": PASSWORD, "code": code }),
    )
    .await
    .expect(401, "wrong code");
    // A recovery code works there too.
    app.post_bearer(
        "/api/change_password",
        &e.token,
        &json!({ "pwd": PASSWORD, "new_pwd": NEW_PASSWORD, "code": e.codes[3] }),
    )
    .await
    .expect(200, "Your password has been changed.");
}

#[tokio::test]
async fn the_fifth_wrong_code_in_a_row_ends_the_session() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "ends").await;
    for _ in 0..5 {
        app.post_bearer(
            "/api/account_export",
            &e.token,
            &json!({ "pwd": PASSWORD, "code": "000000" }),
        )
        .await
        .expect(401, "wrong code");
    }
    app.get_bearer("/api/mfa", &e.token)
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn wrong_codes_at_confirmation_count_too() {
    let app = TestApp::spawn().await;
    app.register_confirmed("confirms", "confirms@example.com")
        .await;
    let token = app.token("confirms", PASSWORD).await;
    setup(&app, &token, &json!({ "pwd": PASSWORD })).await;
    // The setup's password was right: the run starts again from zero.
    for _ in 0..5 {
        app.post_bearer(
            "/api/mfa/totp/confirm",
            &token,
            &json!({ "code": "000000" }),
        )
        .await
        .expect(401, "wrong code");
    }
    app.get_bearer("/api/mfa", &token)
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn a_new_authenticator_replaces_the_old_one_only_when_confirmed() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "moves").await;
    let fresh = setup(
        &app,
        &e.token,
        &json!({ "pwd": PASSWORD, "code": e.code(&app) }),
    )
    .await;
    app.clock.advance(30);
    // Not confirmed: the old authenticator still signs in.
    let mfa_token = super::password_step(&app, "moves", false).await;
    super::second_step(&app, &mfa_token, &code_at(&fresh, app.clock.now()))
        .await
        .expect(401, "wrong code");
    super::second_step(&app, &mfa_token, &e.code(&app))
        .await
        .expect(200, "success");
    app.clock.advance(30);
    let resp = app
        .post_bearer(
            "/api/mfa/totp/confirm",
            &e.token,
            &json!({ "code": code_at(&fresh, app.clock.now()) }),
        )
        .await;
    resp.expect(200, "Two-factor sign-in is on.");
    assert_eq!(status(&app, &e.token).await["recovery_codes_left"], 10);
    app.clock.advance(30);
    let mfa_token = super::password_step(&app, "moves", false).await;
    super::second_step(&app, &mfa_token, &e.code(&app))
        .await
        .expect(401, "wrong code");
    // The old recovery codes went with the old authenticator.
    super::second_step(&app, &mfa_token, &e.codes[0])
        .await
        .expect(401, "wrong code");
    super::second_step(&app, &mfa_token, &code_at(&fresh, app.clock.now()))
        .await
        .expect(200, "success");
}
