//! Two-factor sign-in (TOTP with recovery codes), end to end over HTTP on
//! both stores. The codes are computed by `totp-lite` (and the key decoded
//! by `data-encoding`), RFC 6238 implementations no one here wrote, so a
//! mistake made on both sides cannot pass.

mod enrol;
mod reentry;
mod sign_in;

use serde_json::{Value, json};
use shared::ports::Clock;
use tests::{PASSWORD, TestApp};

/// The code of the base32 `secret` at `time` (SHA-1, 6 digits, 30 s).
pub(super) fn code_at(secret: &str, time: i64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret.trim_end_matches('=').as_bytes())
        .expect("base32 key");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &key, u64::try_from(time).unwrap())
}

/// The key an authenticator app scans from the otpauth URI.
pub(super) fn secret_of_uri(uri: &str) -> String {
    let query = uri.split_once('?').expect("a query").1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("secret="))
        .expect("secret=")
        .to_owned()
}

/// An enrolled account: its key, its recovery codes and a bearer token.
pub(super) struct Enrolled {
    pub(super) secret: String,
    pub(super) codes: Vec<String>,
    pub(super) token: String,
}

impl Enrolled {
    /// The current code.
    pub(super) fn code(&self, app: &TestApp) -> String {
        code_at(&self.secret, app.clock.now())
    }
}

/// Starts a setup: the URI's key.
pub(super) async fn setup(app: &TestApp, token: &str, body: &Value) -> String {
    let resp = app.post_bearer("/api/mfa/totp/setup", token, body).await;
    resp.expect(
        200,
        "Add the key to your authenticator app, then confirm with a code.",
    );
    let data = &resp.body["data"];
    let uri = data["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/user_account:"), "{uri}");
    let secret = secret_of_uri(uri);
    assert_eq!(data["secret"].as_str().unwrap(), secret);
    let svg = data["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && !svg.contains("<script"), "{svg}");
    secret
}

/// Registers `username`, confirms, signs in and turns TOTP on.
pub(super) async fn enrolled(app: &TestApp, username: &str) -> Enrolled {
    let email = format!("{username}@example.com");
    app.register_confirmed(username, &email).await;
    let token = app.token(username, PASSWORD).await;
    let secret = setup(app, &token, &json!({ "pwd": PASSWORD })).await;
    let code = code_at(&secret, app.clock.now());
    let resp = app
        .post_bearer("/api/mfa/totp/confirm", &token, &json!({ "code": code }))
        .await;
    resp.expect(200, "Two-factor sign-in is on.");
    let codes: Vec<String> = resp.body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    // The confirming code's step is used: sign-ins wait for the next one.
    app.clock.advance(30);
    Enrolled {
        secret,
        codes,
        token,
    }
}

/// The first step of a sign-in of an enrolled account: its `mfa_token`.
pub(super) async fn password_step(app: &TestApp, username: &str, remember: bool) -> String {
    let resp = app.login(username, PASSWORD, remember).await;
    resp.expect(401, "second factor required");
    assert_eq!(
        resp.body["data"]["methods"],
        json!(["totp", "recovery_code"])
    );
    assert!(resp.set_cookies().is_empty(), "no cookie before the code");
    resp.body["data"]["mfa_token"].as_str().unwrap().to_owned()
}

/// `POST /api/login/mfa`.
pub(super) async fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> tests::Resp {
    app.post(
        "/api/login/mfa",
        &json!({ "mfa_token": mfa_token, "code": code }),
    )
    .await
}

/// `GET /api/mfa` as `token` sees it.
pub(super) async fn status(app: &TestApp, token: &str) -> Value {
    let resp = app.get_bearer("/api/mfa", token).await;
    resp.expect(200, "success");
    resp.body["data"].clone()
}
