//! Passkey routes over HTTP on both stores, as far as no authenticator is
//! needed: the options' shape, the ceremonies (once, of their kind and
//! account), the refusals. The whole ceremonies, with a software
//! authenticator no one here wrote, are scripts/passkeys_e2e.py's (both
//! stores) and the browser test's (Chromium's virtual authenticator).

use serde_json::json;
use tests::{PASSWORD, TestApp};

async fn signed_in(app: &TestApp, username: &str) -> String {
    app.register_confirmed(username, &format!("{username}@example.com"))
        .await;
    app.token(username, PASSWORD).await
}

#[tokio::test]
async fn registration_options_ask_for_a_verified_resident_passkey() {
    let app = TestApp::spawn().await;
    let token = signed_in(&app, "options").await;
    let start = "/api/passkeys/register/start";
    app.post_bearer(start, &token, &json!({}))
        .await
        .expect(400, "pwd is required.");
    app.post_bearer(start, &token, &json!({ "pwd": "Wrong-Passw0rd!" }))
        .await
        .expect(401, "wrong password");
    let resp = app
        .post_bearer(start, &token, &json!({ "pwd": PASSWORD }))
        .await;
    resp.expect(200, "success");
    let data = &resp.body["data"];
    assert!(data["ceremony"].as_str().is_some_and(|c| c.len() >= 32));
    let options = &data["publicKey"];
    // The test server's base URL is an IP address: browsers refuse one.
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], "options");
    assert_ne!(options["user"]["id"], json!("options"));
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(options["attestation"], "none");
    let algs: Vec<i64> = options["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["alg"].as_i64().unwrap())
        .collect();
    assert!(
        algs.contains(&-7) && algs.contains(&-8) && algs.contains(&-257),
        "{algs:?}"
    );
    app.post(start, &json!({ "pwd": PASSWORD }))
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn a_registration_ceremony_works_once_and_only_for_its_own_kind() {
    let app = TestApp::spawn().await;
    let token = signed_in(&app, "ceremonies").await;
    let finish = "/api/passkeys/register/finish";
    let resp = app
        .post_bearer(
            "/api/passkeys/register/start",
            &token,
            &json!({ "pwd": PASSWORD }),
        )
        .await;
    let ceremony = resp.body["data"]["ceremony"].as_str().unwrap().to_owned();
    app.post_bearer(finish, &token, &json!({ "ceremony": ceremony }))
        .await
        .expect(400, "credential is required.");
    let junk = json!({ "id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {} });
    app.post_bearer(
        finish,
        &token,
        &json!({ "ceremony": ceremony, "credential": junk }),
    )
    .await
    .expect(400, "passkey not accepted.");
    // Taken by the first answer: a replay starts again.
    app.post_bearer(
        finish,
        &token,
        &json!({ "ceremony": ceremony, "credential": junk }),
    )
    .await
    .expect(400, "start again.");
    // A sign-in ceremony is not a registration's.
    let sign_in = app.post("/api/passkey_login/start", &json!({})).await;
    let other = sign_in.body["data"]["ceremony"].as_str().unwrap();
    app.post_bearer(
        finish,
        &token,
        &json!({ "ceremony": other, "credential": junk }),
    )
    .await
    .expect(400, "start again.");
    // Nor is another account's.
    let theirs = signed_in(&app, "stranger").await;
    let resp = app
        .post_bearer(
            "/api/passkeys/register/start",
            &theirs,
            &json!({ "pwd": PASSWORD }),
        )
        .await;
    let strangers = resp.body["data"]["ceremony"].as_str().unwrap();
    app.post_bearer(
        finish,
        &token,
        &json!({ "ceremony": strangers, "credential": junk }),
    )
    .await
    .expect(400, "start again.");
    let name = "x".repeat(65);
    app.post_bearer(
        finish,
        &token,
        &json!({ "ceremony": "c", "credential": junk, "name": name }),
    )
    .await
    .expect(400, "name must be at most 64 characters.");
}

#[tokio::test]
async fn a_passkey_sign_in_needs_a_live_ceremony_and_a_known_passkey() {
    let app = TestApp::spawn().await;
    let resp = app.post("/api/passkey_login/start", &json!({})).await;
    resp.expect(200, "success");
    let options = &resp.body["data"]["publicKey"];
    assert_eq!(options["userVerification"], "required");
    assert_eq!(options["rpId"], "localhost");
    assert!(
        options
            .get("allowCredentials")
            .is_none_or(|a| a.as_array().is_some_and(Vec::is_empty))
    );
    let ceremony = resp.body["data"]["ceremony"].as_str().unwrap();
    let finish = "/api/passkey_login/finish";
    let junk = json!({ "id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {} });
    app.post(finish, &json!({ "ceremony": "nope", "credential": junk }))
        .await
        .expect(401, "sign in again");
    app.post(finish, &json!({ "ceremony": ceremony, "credential": junk }))
        .await
        .expect(401, "passkey not accepted");
    app.post(finish, &json!({ "ceremony": ceremony, "credential": junk }))
        .await
        .expect(401, "sign in again");
}

#[tokio::test]
async fn the_list_starts_empty_and_a_stranger_passkey_cannot_be_removed() {
    let app = TestApp::spawn().await;
    let token = signed_in(&app, "lister").await;
    let resp = app.get_bearer("/api/passkeys", &token).await;
    resp.expect(200, "success");
    assert_eq!(resp.body["data"], json!({ "passkeys": [] }));
    app.post_bearer(
        "/api/passkeys/remove",
        &token,
        &json!({ "id": "AAAA", "pwd": PASSWORD }),
    )
    .await
    .expect(404, "passkey not found");
    // Without passkeys, a second factor names no passkey method.
    let export = app
        .post_bearer("/api/account_export", &token, &json!({ "pwd": PASSWORD }))
        .await;
    assert_eq!(export.body["data"]["passkeys"], json!([]));
}
