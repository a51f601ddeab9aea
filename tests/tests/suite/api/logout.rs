//! `GET` and `POST /api/logout`: the session ends and the cookies are
//! cleared; with a cookie session only with the CSRF header.

use tests::{PASSWORD, TestApp};

#[tokio::test]
async fn logout_ends_the_session_and_clears_both_cookies() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;

    let resp = app.get_bearer("/api/logout", &token).await;

    resp.expect(200, "user logout");
    for name in ["access_token_cookie", "csrf_access_token"] {
        let cleared = resp.set_cookie(name);
        assert!(cleared.starts_with(&format!("{name}=;")), "{cleared}");
        assert!(
            cleared.contains("Max-Age=0") && cleared.contains("Path=/"),
            "{cleared}"
        );
    }
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(401, "authentication required");
    let again = app.get_bearer("/api/logout", &token).await;
    again.expect(401, "authentication required");
    // Even a failed logout clears the browser's dead cookies.
    assert!(
        again
            .set_cookie("access_token_cookie")
            .contains("Max-Age=0")
    );
    assert!(again.set_cookie("csrf_access_token").contains("Max-Age=0"));
}

#[tokio::test]
async fn logout_ends_only_its_own_session() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let phone = app.token("alice", PASSWORD).await;
    let laptop = app.token("alice", PASSWORD).await;

    app.get_bearer("/api/logout", &phone)
        .await
        .expect(200, "user logout");

    app.get_bearer("/api/profile_settings", &laptop)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn logout_with_the_cookie_needs_the_csrf_header_on_get_and_post() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, true).await;
    let csrf = login.cookie_value("csrf_access_token");
    let cookie = format!(
        "access_token_cookie={}; csrf_access_token={csrf}",
        login.cookie_value("access_token_cookie")
    );

    app.get("/api/logout")
        .await
        .expect(401, "authentication required");
    // A link or an image on another site: refused, and nothing cleared or ended.
    for method in ["GET", "POST"] {
        let forged = app
            .send(app.request(method, "/api/logout").header("cookie", &cookie))
            .await;
        forged.expect(401, "missing or invalid CSRF token");
        assert!(
            forged.set_cookies().is_empty(),
            "{:?}",
            forged.set_cookies()
        );
    }
    app.get_cookie("/api/profile_settings", &cookie)
        .await
        .expect(200, "success");

    // POST needs no body and no content type.
    app.send(
        app.request("POST", "/api/logout")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf),
    )
    .await
    .expect(200, "user logout");
    app.get_cookie("/api/profile_settings", &cookie)
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn logout_by_get_with_the_csrf_header_and_by_post_with_a_bearer_token() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let login = app.login("alice", PASSWORD, false).await;
    let csrf = login.cookie_value("csrf_access_token");
    let cookie = format!(
        "access_token_cookie={}; csrf_access_token={csrf}",
        login.cookie_value("access_token_cookie")
    );
    app.send(
        app.request("GET", "/api/logout")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf),
    )
    .await
    .expect(200, "user logout");

    let token = app.token("alice", PASSWORD).await;
    app.send(app.request("POST", "/api/logout").bearer_auth(&token))
        .await
        .expect(200, "user logout");
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(401, "authentication required");
}
