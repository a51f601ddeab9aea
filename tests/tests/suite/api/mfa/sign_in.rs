//! Signing in with a second factor: codes once, the mfa_token's life, the
//! lockout, and what a reset and a revert do to the factors.

use serde_json::json;
use shared::ports::Clock;
use tests::{NEW_PASSWORD, PASSWORD, TestApp};

use super::{code_at, enrolled, password_step, second_step, status};

#[tokio::test]
async fn sign_in_takes_a_code_and_answers_as_a_login_does() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "signs").await;
    // A wrong password answers exactly as before.
    app.login("signs", "Wrong-Passw0rd!", false)
        .await
        .expect(401, "wrong username or password");
    let mfa_token = password_step(&app, "signs", true).await;
    app.post("/api/login/mfa", &json!({ "mfa_token": mfa_token }))
        .await
        .expect(400, "code is required.");
    let resp = second_step(&app, &mfa_token, &e.code(&app)).await;
    resp.expect(200, "success");
    for field in ["token", "device_token", "csrf_token"] {
        assert!(resp.body["data"][field].is_string(), "{field}");
    }
    // `remember`, as asked in the first step: a persistent cookie.
    assert!(resp.set_cookie("access_token_cookie").contains("Max-Age="));
    app.get_bearer("/api/whoami", &resp.token())
        .await
        .expect(200, "success");
    // The token worked once.
    second_step(&app, &mfa_token, &e.code(&app))
        .await
        .expect(401, "sign in again");
}

#[tokio::test]
async fn a_code_works_once_and_only_near_its_time() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "replays").await;
    let code = e.code(&app);
    let first = password_step(&app, "replays", false).await;
    second_step(&app, &first, &code)
        .await
        .expect(200, "success");
    // The same code, seen over a shoulder: refused.
    let second = password_step(&app, "replays", false).await;
    second_step(&app, &second, &code)
        .await
        .expect(401, "wrong code");
    // A code from two steps ago: refused; the previous step's: accepted.
    app.clock.advance(90);
    let now = app.clock.now();
    second_step(&app, &second, &code_at(&e.secret, now - 60))
        .await
        .expect(401, "wrong code");
    second_step(&app, &second, &code_at(&e.secret, now - 30))
        .await
        .expect(200, "success");
    // And the next step's too (one step of skew either way).
    let third = password_step(&app, "replays", false).await;
    second_step(&app, &third, &code_at(&e.secret, now + 30))
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "recovers").await;
    let mfa_token = password_step(&app, "recovers", false).await;
    // Typed loosely: upper case, spaces for dashes.
    let typed = e.codes[0].to_uppercase().replace('-', " ");
    let resp = second_step(&app, &mfa_token, &typed).await;
    resp.expect(200, "success");
    assert_eq!(
        status(&app, &resp.token()).await,
        json!({"totp": true, "recovery_codes_left": 9})
    );
    let again = password_step(&app, "recovers", false).await;
    second_step(&app, &again, &e.codes[0])
        .await
        .expect(401, "wrong code");
}

#[tokio::test]
async fn successful_two_step_sign_ins_leave_nothing_in_the_ip_window() {
    let app = TestApp::options().env("IP_LIMIT_LOGIN", "2").spawn().await;
    let e = enrolled(&app, "natted").await;
    for code in &e.codes[..4] {
        let mfa_token = password_step(&app, "natted", false).await;
        second_step(&app, &mfa_token, code)
            .await
            .expect(200, "success");
    }
}

#[tokio::test]
async fn a_password_change_meanwhile_ends_the_pending_sign_in() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "changed").await;
    let mfa_token = password_step(&app, "changed", false).await;
    app.post_bearer(
        "/api/change_password",
        &e.token,
        &json!({ "pwd": PASSWORD, "new_pwd": NEW_PASSWORD, "code": e.codes[0] }),
    )
    .await
    .expect(200, "Your password has been changed.");
    second_step(&app, &mfa_token, &e.code(&app))
        .await
        .expect(401, "sign in again");
    app.post(
        "/api/login/mfa",
        &json!({ "mfa_token": "", "code": "123456" }),
    )
    .await
    .expect(400, "mfa_token is required.");
}

#[tokio::test]
async fn the_mfa_token_lives_five_minutes() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "expires").await;
    let mfa_token = password_step(&app, "expires", false).await;
    app.clock.advance(301);
    second_step(&app, &mfa_token, &e.code(&app))
        .await
        .expect(401, "sign in again");
    for junk in [
        "expires~abc",
        "nobody~AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        second_step(&app, junk, "123456")
            .await
            .expect(401, "sign in again");
    }
}

#[tokio::test]
async fn the_mfa_token_dies_after_five_wrong_codes() {
    // A lockout above the attempt's own limit, to see the attempt's.
    let app = TestApp::options()
        .env("LOGIN_MAX_FAILURES", "20")
        .spawn()
        .await;
    let e = enrolled(&app, "guessed").await;
    let mfa_token = password_step(&app, "guessed", false).await;
    for _ in 0..5 {
        second_step(&app, &mfa_token, "000000")
            .await
            .expect(401, "wrong code");
    }
    second_step(&app, &mfa_token, &e.code(&app))
        .await
        .expect(401, "sign in again");
}

#[tokio::test]
async fn wrong_codes_count_like_wrong_passwords_under_the_lockout() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "locked").await;
    // The password step counts (1), then wrong codes (2..=5): the fifth
    // failure in a row locks the username, code or password.
    let mfa_token = password_step(&app, "locked", false).await;
    for _ in 0..4 {
        second_step(&app, &mfa_token, "000000")
            .await
            .expect(401, "wrong code");
    }
    let resp = second_step(&app, &mfa_token, &e.code(&app)).await;
    resp.expect(429, "too many failed login attempts, try again later.");
    app.login("locked", PASSWORD, false)
        .await
        .expect(429, "too many failed login attempts, try again later.");
}

#[tokio::test]
async fn a_password_reset_keeps_two_factor_sign_in_on() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "resets").await;
    app.request_reset("resets")
        .await
        .expect(200, "Check your email...");
    let token = app.reset_token_for("resets@example.com").await;
    app.reset_password(&token, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    let resp = app.login("resets", NEW_PASSWORD, false).await;
    resp.expect(401, "second factor required");
    let mfa_token = resp.body["data"]["mfa_token"].as_str().unwrap();
    second_step(&app, mfa_token, &e.code(&app))
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn a_revert_removes_factors_enrolled_since_the_change_it_reverts() {
    let app = TestApp::spawn().await;
    // The intruder, signed in, changes the address, then enrols a factor.
    app.register_confirmed("owner", "owner@example.com").await;
    let token = app.token("owner", PASSWORD).await;
    app.change_email(&token, "intruder@evil.example")
        .await
        .expect(200, "Check your email...");
    let revert = app.link_to("owner@example.com", "/api/revert_email/").await;
    let secret = super::setup(&app, &token, &json!({ "pwd": PASSWORD })).await;
    app.post_bearer(
        "/api/mfa/totp/confirm",
        &token,
        &json!({ "code": code_at(&secret, app.clock.now()) }),
    )
    .await
    .expect(200, "Two-factor sign-in is on.");
    // The owner reverts, and is told the factor is gone.
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    let mail = app.emails_to("owner@example.com").await.pop().unwrap();
    assert!(
        mail.contains("Two-factor sign-in and passkeys set up"),
        "{mail}"
    );
    let reset = app.reset_token_for("owner@example.com").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    // The intruder's authenticator no longer stands in the owner's way.
    app.login("owner", NEW_PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn a_revert_keeps_factors_enrolled_before_the_change() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app, "keeper").await;
    app.post_bearer(
        "/api/change_email",
        &e.token,
        &json!({ "pwd": PASSWORD, "new_email": "new@example.com", "code": e.code(&app) }),
    )
    .await
    .expect(200, "Check your email...");
    let revert = app
        .link_to("keeper@example.com", "/api/revert_email/")
        .await;
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    let reset = app.reset_token_for("keeper@example.com").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    app.login("keeper", NEW_PASSWORD, false)
        .await
        .expect(401, "second factor required");
}
