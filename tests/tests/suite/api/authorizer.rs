//! The Lambda authorizer a team attaches to its own API, fed the events API
//! Gateway sends it (payload 2.0), on the same store as the app.

use authorizer::SimpleResponse;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp};

/// The authorizer's decision (these tests never see an outage).
async fn authorize(
    app: std::sync::Arc<shared::App>,
    event: ApiGatewayV2CustomAuthorizerV2Request,
) -> SimpleResponse {
    authorizer::authorize(app, event).await.expect("decided")
}

/// An authorizer event for `method` with these headers and cookies.
fn event(
    method: &str,
    headers: &[(&str, &str)],
    cookies: &[String],
) -> ApiGatewayV2CustomAuthorizerV2Request {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    serde_json::from_value(json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/orders",
        "routeKey": format!("{method} /orders"),
        "rawPath": "/orders",
        "rawQueryString": "",
        "cookies": cookies,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef123",
            "http": {
                "method": method,
                "path": "/orders",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "test"
            },
            "requestId": "id",
            "routeKey": format!("{method} /orders"),
            "stage": "$default",
            "time": "26/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1_790_000_000_000_i64
        }
    }))
    .unwrap()
}

/// The stored account id of `username`.
async fn account_id(app: &TestApp, username: &str) -> String {
    let username = shared::domain::Username::parse(username).unwrap();
    let user = app.app.store.get_user(&username).await.unwrap().unwrap();
    user.account_id.as_str().to_owned()
}

/// Allowed, for a user whose address is verified (every `given_user`).
async fn allowed(app: &TestApp, username: &str) -> SimpleResponse {
    SimpleResponse {
        is_authorized: true,
        context: json!({
            "account_id": account_id(app, username).await,
            "username": username,
            "email_verified": true,
        }),
    }
}

fn denied() -> SimpleResponse {
    SimpleResponse {
        is_authorized: false,
        context: Value::Null,
    }
}

#[tokio::test]
async fn a_bearer_token_is_authorized_until_logout() {
    let app = TestApp::spawn().await;
    app.given_user("Alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    let bearer = format!("Bearer {token}");

    let before = authorize(
        app.app.clone(),
        event("GET", &[("authorization", &bearer)], &[]),
    )
    .await;
    app.get_bearer("/api/logout", &token)
        .await
        .expect(200, "user logout");
    let after = authorize(
        app.app.clone(),
        event("GET", &[("authorization", &bearer)], &[]),
    )
    .await;

    assert_eq!(before, allowed(&app, "Alice").await);
    assert_eq!(after, denied());
    // What API Gateway reads: the simple response format.
    assert_eq!(
        serde_json::to_value(&before).unwrap(),
        json!({"isAuthorized": true, "context": {
            "account_id": account_id(&app, "Alice").await,
            "username": "Alice",
            "email_verified": true,
        }})
    );
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        json!({"isAuthorized": false})
    );
}

#[tokio::test]
async fn the_context_tells_whether_the_address_is_verified() {
    let app = TestApp::spawn().await;
    app.stored_user("bob", "bob@example.com", false).await;
    let token = app.token("bob", PASSWORD).await;

    let decided = authorize(
        app.app.clone(),
        event("GET", &[("authorization", &format!("Bearer {token}"))], &[]),
    )
    .await;

    assert_eq!(
        serde_json::to_value(&decided).unwrap(),
        json!({"isAuthorized": true, "context": {
            "account_id": account_id(&app, "bob").await,
            "username": "bob",
            "email_verified": false,
        }})
    );
}

#[tokio::test]
async fn forged_missing_and_foreign_tokens_are_denied() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    let other = TestApp::options()
        .env("JWT_SECRET", "another-secret-of-at-least-thirty-two-bytes")
        .spawn()
        .await;
    other.given_user("alice", "alice@example.com").await;
    let foreign = other.token("alice", PASSWORD).await;

    for headers in [
        vec![],
        vec![("authorization", format!("Bearer {forged}"))],
        vec![("authorization", format!("Bearer {foreign}"))],
        vec![("authorization", format!("Basic {token}"))],
        vec![("authorization", "Bearer".to_owned())],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = authorize(app.app.clone(), event("GET", &headers, &[])).await;
        assert_eq!(answer, denied(), "{headers:?}");
    }
}

#[tokio::test]
async fn the_session_cookie_is_authorized_with_the_csrf_rule_on_writes() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, false).await;
    let jwt = login.cookie_value("access_token_cookie");
    let csrf = login.cookie_value("csrf_access_token");
    let cookies = vec![
        format!("access_token_cookie={jwt}"),
        format!("csrf_access_token={csrf}"),
    ];

    let get = authorize(app.app.clone(), event("GET", &[], &cookies)).await;
    let post_without = authorize(app.app.clone(), event("POST", &[], &cookies)).await;
    let post_with = authorize(
        app.app.clone(),
        event("POST", &[("x-csrf-token", &csrf)], &cookies),
    )
    .await;
    // A Cookie header (not the cookies list) is read too.
    let header = format!("access_token_cookie={jwt}; csrf_access_token={csrf}");
    let from_header = authorize(app.app.clone(), event("GET", &[("cookie", &header)], &[])).await;

    assert_eq!(get, allowed(&app, "alice").await);
    assert_eq!(post_without, denied());
    assert_eq!(post_with, allowed(&app, "alice").await);
    assert_eq!(from_header, allowed(&app, "alice").await);
}

#[tokio::test]
async fn a_reset_or_a_deletion_ends_what_the_authorizer_allows() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    let bearer = format!("Bearer {token}");
    app.request_reset("alice").await;
    let reset = app.reset_token_for("alice@example.com").await;
    app.post(
        &format!("/api/reset_password/{reset}"),
        &json!({"new_pwd": "An0ther-Passw0rd!x"}),
    )
    .await
    .expect(200, "Your password has been reset.");

    let answer = authorize(
        app.app.clone(),
        event("GET", &[("authorization", &bearer)], &[]),
    )
    .await;

    assert_eq!(answer, denied());
}
