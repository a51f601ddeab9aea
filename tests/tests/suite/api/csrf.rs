//! The CSRF rule applies to cookie-authenticated requests other than
//! GET/HEAD/OPTIONS. Every authenticated route is a GET today, so these tests
//! call the handler directly with an unsafe method, as a future route would.

use lambda_http::{Body, Request};
use tests::{PASSWORD, TestApp};

fn post(path: &str, headers: &[(&str, String)]) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::Empty).unwrap()
}

async fn call(app: &TestApp, function: &str, req: Request) -> (u16, serde_json::Value) {
    let handle = dev_server::handler(function).unwrap();
    let resp = handle(app.app.clone(), req).await;
    let status = resp.status().as_u16();
    let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
    (status, body)
}

#[tokio::test]
async fn cookie_authenticated_writes_need_the_csrf_header() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, false).await;
    let jwt = login.cookie_value("access_token_cookie");
    let csrf = login.cookie_value("csrf_access_token");
    let cookies = format!("access_token_cookie={jwt}; csrf_access_token={csrf}");

    let missing = call(
        &app,
        "profile_settings",
        post("/api/profile_settings", &[("cookie", cookies.clone())]),
    )
    .await;
    let wrong = call(
        &app,
        "profile_settings",
        post(
            "/api/profile_settings",
            &[
                ("cookie", cookies.clone()),
                ("x-csrf-token", "A".repeat(43)),
            ],
        ),
    )
    .await;
    let forged_pair = call(
        &app,
        "profile_settings",
        post(
            "/api/profile_settings",
            &[
                (
                    "cookie",
                    format!("access_token_cookie={jwt}; csrf_access_token=x"),
                ),
                ("x-csrf-token", "x".into()),
            ],
        ),
    )
    .await;
    let ok = call(
        &app,
        "logout",
        post(
            "/api/logout",
            &[("cookie", cookies.clone()), ("x-csrf-token", csrf.clone())],
        ),
    )
    .await;

    assert_eq!(missing.0, 401);
    assert_eq!(missing.1["msg"], "missing or invalid CSRF token");
    assert_eq!(wrong.0, 401);
    assert_eq!(forged_pair.0, 401);
    assert_eq!((ok.0, ok.1["msg"].as_str()), (200, Some("user logout")));
}

#[tokio::test]
async fn bearer_requests_and_safe_methods_need_no_csrf_header() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, false).await;

    let bearer = call(
        &app,
        "profile_settings",
        post(
            "/api/profile_settings",
            &[("authorization", format!("Bearer {}", login.token()))],
        ),
    )
    .await;
    let cookie_get = app
        .get_cookie(
            "/api/profile_settings",
            &format!(
                "access_token_cookie={}",
                login.cookie_value("access_token_cookie")
            ),
        )
        .await;

    assert_eq!(bearer.0, 200);
    cookie_get.expect(200, "success");
}

#[tokio::test]
async fn login_answers_the_csrf_token_and_cookie_domain_scopes_every_cookie() {
    // A front end on app.example.com talking to api.example.com reads the
    // CSRF token from the answer, or from the cookie once COOKIE_DOMAIN
    // shares it with the sibling host.
    let app = tests::TestApp::options()
        .env("COOKIE_DOMAIN", "example.com")
        .spawn()
        .await;
    app.given_user("alice", "alice@example.com").await;

    let login = app.login("alice", tests::PASSWORD, true).await;

    login.expect(200, "success");
    assert_eq!(
        login.body["data"]["csrf_token"].as_str().unwrap(),
        login.cookie_value("csrf_access_token")
    );
    for name in ["access_token_cookie", "csrf_access_token", "device_token"] {
        let cookie = login.set_cookie(name);
        assert!(cookie.contains("; Domain=example.com"), "{cookie}");
    }
    let out = app.get_bearer("/api/logout", &login.token()).await;
    out.expect(200, "user logout");
    for name in ["access_token_cookie", "csrf_access_token"] {
        let cleared = out.set_cookie(name);
        assert!(
            cleared.contains("; Domain=example.com") && cleared.contains("Max-Age=0"),
            "a cookie is cleared with the Domain it was set with: {cleared}"
        );
    }

    // Without it, host-only cookies (no Domain attribute).
    let plain = tests::TestApp::spawn().await;
    plain.given_user("bob", "bob@example.com").await;
    let login = plain.login("bob", tests::PASSWORD, false).await;
    assert!(
        login.set_cookies().iter().all(|c| !c.contains("Domain=")),
        "{:?}",
        login.set_cookies()
    );
    assert!(login.body["data"]["csrf_token"].is_string());
}
