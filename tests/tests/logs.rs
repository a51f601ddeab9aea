//! A full flow with every log line captured: no password, raw token or JWT may appear.
//! (Its own test binary, because it installs the global log subscriber.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tests::{NEW_PASSWORD, PASSWORD, TestApp};
use tracing_subscriber::prelude::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_of_a_full_flow_hold_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                // The most verbose level an operator could ask for, through the service's own filter.
                .with_filter(shared::setup::telemetry::filter("trace")),
        )
        .init();
    let app = TestApp::spawn().await;
    let wrong = "Wr0ng-Guess-Passw0rd";

    app.register("Alice", "alice@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let confirm_link = app
        .link_to("alice@example.com", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&confirm_link))
        .await
        .expect(200, "Your email has been confirmed.");
    app.get(&app.path_of(&confirm_link))
        .await
        .expect(400, "user not found.");
    app.login("alice", wrong, false)
        .await
        .expect(401, "wrong username or password");
    let login = app.login("alice", PASSWORD, true).await;
    let jwt = login.token();
    let csrf = login.cookie_value("csrf_access_token");
    app.get_bearer("/api/profile_settings", &jwt)
        .await
        .expect(200, "success");
    app.get_bearer("/api/logout", &jwt)
        .await
        .expect(200, "user logout");
    app.get_bearer("/api/logout", &jwt)
        .await
        .expect(401, "authentication required");
    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");
    let reset_token = app.reset_token_for("alice@example.com").await;
    app.reset_password(&reset_token, "1234").await;
    app.reset_password(&reset_token, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    app.reset_password(&reset_token, NEW_PASSWORD)
        .await
        .expect(400, "user not found");
    let second = app.token("alice", NEW_PASSWORD).await;
    // Two-factor sign-in: the key, the recovery codes and the mfa_token
    // must not reach the logs either.
    let setup = app
        .post_bearer(
            "/api/mfa/totp/setup",
            &second,
            &json!({ "pwd": NEW_PASSWORD }),
        )
        .await;
    let key = setup.body["data"]["secret"].as_str().unwrap().to_owned();
    let raw_key = data_encoding::BASE32_NOPAD.decode(key.as_bytes()).unwrap();
    let now = u64::try_from(shared::ports::Clock::now(&*app.clock)).unwrap();
    let code = totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &raw_key, now);
    let confirmed = app
        .post_bearer("/api/mfa/totp/confirm", &second, &json!({ "code": code }))
        .await;
    confirmed.expect(200, "Two-factor sign-in is on.");
    let recovery = confirmed.body["data"]["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = app.login("alice", NEW_PASSWORD, false).await;
    pending.expect(401, "second factor required");
    let mfa_token = pending.body["data"]["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/api/login/mfa",
        &json!({ "mfa_token": mfa_token, "code": "abcd-efgh-jkmn" }),
    )
    .await
    .expect(401, "wrong code");
    app.post(
        "/api/login/mfa",
        &json!({ "mfa_token": mfa_token, "code": recovery }),
    )
    .await
    .expect(200, "success");
    app.post("/api/registration", &json!({"username": "bob", "full_name": "B", "email": "bob@example.com", "pwd": "password"}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("route=\"/api/login\""),
        "the flow was logged:\n{logs}"
    );
    let confirm_token = confirm_link.rsplit('/').next().unwrap();
    let secrets = [
        PASSWORD,
        NEW_PASSWORD,
        wrong,
        "password\"",
        confirm_token,
        &reset_token,
        &jwt,
        &second,
        &csrf,
        "$argon2id$",
        &key,
        &recovery,
        &recovery.replace('-', ""),
        "abcd-efgh-jkmn",
        &mfa_token,
        mfa_token.rsplit('~').next().unwrap(),
    ];
    if let Ok(path) = std::env::var("DUMP_LOGS") {
        std::fs::write(path, &logs).unwrap();
    }
    for secret in secrets {
        assert!(
            !logs.contains(secret),
            "a secret ({}...) reached the logs",
            &secret[..4]
        );
    }
    // Any JWT at all (header.payload.signature) would start like this.
    assert!(!logs.contains("eyJ"), "a JWT reached the logs");
}
