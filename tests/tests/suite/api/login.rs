//! `POST /api/login`: credentials, sessions, cookies, lockout.

use tests::{PASSWORD, TestApp, jwt_claims};

#[tokio::test]
async fn login_returns_a_signed_jwt_bound_to_a_session() {
    let app = TestApp::spawn().await;
    app.given_user("Admin", "admin@example.com").await;

    let resp = app.login("admin", PASSWORD, false).await;

    resp.expect(200, "success");
    let (header, claims) = jwt_claims(&resp.token());
    assert_eq!(header["alg"], "HS256");
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["iss"], "user_account");
    assert_eq!(claims["aud"], "user_account");
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86_400
    );
}

#[tokio::test]
async fn without_remember_the_cookies_last_for_the_browser_session() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;

    let resp = app.login("alice", PASSWORD, false).await;

    let access = resp.set_cookie("access_token_cookie");
    let csrf = resp.set_cookie("csrf_access_token");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(access.contains(attr), "{access}");
    }
    assert!(csrf.contains("Secure") && csrf.contains("SameSite=Lax") && !csrf.contains("HttpOnly"));
    for cookie in [&access, &csrf] {
        assert!(
            !cookie.contains("Max-Age") && !cookie.contains("Expires"),
            "{cookie}"
        );
    }
    assert_eq!(resp.cookie_value("access_token_cookie"), resp.token());
}

#[tokio::test]
async fn with_remember_the_cookies_and_token_last_thirty_days() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;

    let resp = app.login("alice", PASSWORD, true).await;

    for name in ["access_token_cookie", "csrf_access_token"] {
        assert!(
            resp.set_cookie(name).contains("Max-Age=2592000"),
            "{}",
            resp.set_cookie(name)
        );
    }
    let (_, claims) = jwt_claims(&resp.token());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        2_592_000
    );
    // The session outlives a day.
    app.clock.advance(2 * 86_400);
    app.get_bearer("/api/profile_settings", &resp.token())
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn session_lifetimes_are_configurable() {
    let app = TestApp::options()
        .env("SESSION_TTL_SECS", "600")
        .env("REMEMBER_TTL_SECS", "7200")
        .spawn()
        .await;
    app.given_user("alice", "alice@example.com").await;

    let short = app.login("alice", PASSWORD, false).await;
    let long = app.login("alice", PASSWORD, true).await;

    assert!(
        long.set_cookie("access_token_cookie")
            .contains("Max-Age=7200")
    );
    app.clock.advance(601);
    app.get_bearer("/api/profile_settings", &short.token())
        .await
        .expect(401, "authentication required");
    app.get_bearer("/api/profile_settings", &long.token())
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;

    let wrong = app.login("alice", "Wrong-Passw0rd!", false).await;
    let unknown = app.login("nobody", PASSWORD, false).await;
    let invalid = app.login("not a username!", PASSWORD, false).await;

    wrong.expect(401, "wrong username or password");
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert_eq!((wrong.status, &wrong.body), (invalid.status, &invalid.body));
    assert!(wrong.set_cookies().is_empty() && unknown.set_cookies().is_empty());
}

#[tokio::test]
async fn login_ignores_the_case_of_the_username() {
    let app = TestApp::spawn().await;
    app.given_user("Admin", "admin@example.com").await;
    for name in ["admin", "ADMIN", "aDmIn"] {
        app.login(name, PASSWORD, false)
            .await
            .expect(200, "success");
    }
}

#[tokio::test]
async fn five_failures_lock_the_username_for_a_minute() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    for _ in 0..5 {
        app.login("alice", "Wrong-Passw0rd!", false)
            .await
            .expect(401, "wrong username or password");
    }

    let locked = app.login("alice", PASSWORD, false).await;
    app.clock.advance(60);
    let unlocked = app.login("alice", PASSWORD, false).await;

    assert_eq!(locked.status, 429);
    assert_eq!(locked.body["status"], "ERR");
    let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    unlocked.expect(200, "success");
}

#[tokio::test]
async fn each_further_failure_doubles_the_lockout_up_to_fifteen_minutes() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    for _ in 0..5 {
        app.login("alice", "Wrong-Passw0rd!", false).await;
    }
    let mut retries = Vec::new();
    for _ in 0..6 {
        let locked = app.login("alice", PASSWORD, false).await;
        assert_eq!(locked.status, 429);
        let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
        retries.push(retry);
        app.clock.advance(retry);
        app.login("alice", "Wrong-Passw0rd!", false)
            .await
            .expect(401, "wrong username or password");
    }
    assert_eq!(retries, [60, 120, 240, 480, 900, 900]);
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    for _ in 0..4 {
        app.login("alice", "Wrong-Passw0rd!", false).await;
    }
    app.login("alice", PASSWORD, false)
        .await
        .expect(200, "success");
    for _ in 0..4 {
        app.login("alice", "Wrong-Passw0rd!", false)
            .await
            .expect(401, "wrong username or password");
    }
    app.login("alice", PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn usernames_that_do_not_exist_are_locked_too() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login("ghost", PASSWORD, false)
            .await
            .expect(401, "wrong username or password");
    }
    assert_eq!(app.login("ghost", PASSWORD, false).await.status, 429);
    assert_eq!(app.login("GHOST", PASSWORD, false).await.status, 429);
}

#[tokio::test]
async fn a_locked_user_can_still_reset_the_password_and_then_log_in() {
    let app = TestApp::spawn().await;
    app.given_user("alice", "alice@example.com").await;
    for _ in 0..5 {
        app.login("alice", "Wrong-Passw0rd!", false).await;
    }

    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");
    let token = app.reset_token_for("alice@example.com").await;
    app.reset_password(&token, tests::NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");

    app.login("alice", tests::NEW_PASSWORD, false)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn lockout_thresholds_are_configurable() {
    let app = TestApp::options()
        .env("LOGIN_MAX_FAILURES", "2")
        .env("LOGIN_LOCKOUT_BASE_SECS", "10")
        .spawn()
        .await;
    for _ in 0..2 {
        app.login("ghost", PASSWORD, false)
            .await
            .expect(401, "wrong username or password");
    }
    let locked = app.login("ghost", PASSWORD, false).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.header("retry-after").as_deref(), Some("10"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_guesses_cannot_outrun_the_lockout() {
    let app = std::sync::Arc::new(TestApp::options().env("IP_LIMITS", "off").spawn().await);
    app.given_user("alice", "alice@example.com").await;

    let guesses: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.login("alice", &format!("Guess-{i}-Passw0rd"), false)
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }

    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        (1..=5).contains(&checked),
        "passwords checked: {checked} of 20 ({statuses:?})"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20 - checked);
}
