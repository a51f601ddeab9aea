//! Service tokens over HTTP on both stores: minting for an allowed audience,
//! the claims, the JWKS and discovery documents, and that neither kind of
//! token passes for the other. Independent verifiers (PyJWT, jose,
//! aws-jwt-verify) are scripts/service_tokens_e2e.py's.

use serde_json::json;
use tests::{PASSWORD, TestApp, jwt_claims};

#[tokio::test]
async fn a_token_is_minted_for_an_allowed_audience_only() {
    let app = TestApp::options()
        .env("TOKEN_AUDIENCES", "orders, billing")
        .env("TOKEN_TTL_SECS", "120")
        .spawn()
        .await;
    app.register_confirmed("minted", "minted@example.com").await;
    let session = app.token("minted", PASSWORD).await;
    app.post_bearer("/api/token", &session, &json!({}))
        .await
        .expect(400, "audience is required.");
    app.post_bearer("/api/token", &session, &json!({ "audience": "payroll" }))
        .await
        .expect(400, "audience is not allowed.");
    app.post("/api/token", &json!({ "audience": "orders" }))
        .await
        .expect(401, "authentication required");
    let resp = app
        .post_bearer("/api/token", &session, &json!({ "audience": "orders" }))
        .await;
    resp.expect(200, "success");
    let data = &resp.body["data"];
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 120);
    let token = data["access_token"].as_str().unwrap();
    let (header, claims) = jwt_claims(token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["aud"], "orders");
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(claims["username"], "minted");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    let whoami = app.get_bearer("/api/whoami", &session).await;
    assert_eq!(claims["sub"], whoami.body["data"]["account_id"]);
    // A service token is no session.
    app.get_bearer("/api/whoami", token)
        .await
        .expect(401, "authentication required");
    // The JWKS names the key that signed it; discovery names the issuer.
    let jwks = app
        .request("GET", "/.well-known/jwks.json")
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=300");
    let jwks: serde_json::Value = jwks.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let discovery: serde_json::Value = app
        .request("GET", "/.well-known/openid-configuration")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], app.base.as_str());
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.base)
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
}

#[tokio::test]
async fn a_second_factor_shows_in_the_tokens_amr() {
    let app = TestApp::options()
        .env("TOKEN_AUDIENCES", "orders")
        .spawn()
        .await;
    let e = super::mfa::enrolled(&app, "amr").await;
    let amr_of = |session: String| {
        let app = &app;
        async move {
            let resp = app
                .post_bearer("/api/token", &session, &json!({ "audience": "orders" }))
                .await;
            resp.expect(200, "success");
            jwt_claims(resp.body["data"]["access_token"].as_str().unwrap()).1["amr"].clone()
        }
    };
    let mfa_token = super::mfa::password_step(&app, "amr", false).await;
    let with_code = super::mfa::second_step(&app, &mfa_token, &e.code(&app)).await;
    assert_eq!(
        amr_of(with_code.token()).await,
        json!(["pwd", "otp", "mfa"])
    );
    let mfa_token = super::mfa::password_step(&app, "amr", false).await;
    let with_recovery = super::mfa::second_step(&app, &mfa_token, &e.codes[0]).await;
    assert_eq!(amr_of(with_recovery.token()).await, json!(["pwd", "mfa"]));
}
