//! Per-IP limits on login, registration and reset requests.

use tests::{PASSWORD, TestApp};

#[tokio::test]
async fn logins_are_limited_per_client_ip() {
    let app = TestApp::options().env("IP_LIMIT_LOGIN", "3").spawn().await;
    for i in 0..3 {
        app.login(&format!("user{i}"), PASSWORD, false)
            .await
            .expect(401, "wrong username or password");
    }

    let limited = app.login("someone", PASSWORD, false).await;
    app.clock.advance(60);
    let next_window = app.login("someone", PASSWORD, false).await;

    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    next_window.expect(401, "wrong username or password");
}

/// Many people behind one address (an office, a carrier's NAT) can all
/// sign in: the per-IP window keeps only failed sign-ins (each attempt is
/// counted while it runs, a success gives its count back), and failures
/// from that address are still limited.
#[tokio::test]
async fn successful_sign_ins_from_one_address_are_not_limited() {
    let app = TestApp::options().env("IP_LIMIT_LOGIN", "3").spawn().await;
    for name in ["ann", "ben", "cat", "dan", "eve", "fay"] {
        app.given_user(name, &format!("{name}@example.com")).await;
    }
    let office = app.peer("127.0.0.7");

    for name in ["ann", "ben", "cat", "dan", "eve", "fay", "ann", "ben"] {
        office
            .login(name, PASSWORD, None)
            .await
            .expect(200, "success");
    }
    for name in ["ann", "ben", "cat"] {
        office
            .login(name, "Wr0ng-Passw0rd!", None)
            .await
            .expect(401, "wrong username or password");
    }
    let limited = office.login("dan", PASSWORD, None).await;

    limited.expect(429, "too many requests, try again later.");
    // Another address is its own client.
    app.peer("127.0.0.8")
        .login("dan", PASSWORD, None)
        .await
        .expect(200, "success");
}

/// Behind edge protection, CloudFront's viewer address is the client, on
/// requests carrying the secret origin header; a request without it (one
/// that went around CloudFront and its web ACL) is refused on the routes
/// counted per client.
#[tokio::test]
async fn behind_the_edge_the_viewer_address_is_the_client_only_with_the_secret() {
    const SECRET: &str = "edge-origin-secret-edge-origin-secret-0123";
    let app = TestApp::options()
        .env("EDGE_ORIGIN_SECRET", SECRET)
        .env("IP_LIMIT_REGISTRATION", "1")
        .spawn()
        .await;
    let client = app.peer("127.0.0.9");
    let register = |name: &'static str, verify: &'static str, viewer: &'static str| {
        let body = serde_json::json!({
            "username": name, "full_name": "A", "email": format!("{name}@example.com"),
            "phone": null, "contacts": null, "pwd": PASSWORD,
        });
        let client = &client;
        async move {
            client
                .post_with(
                    "/api/registration",
                    &body,
                    &[
                        ("x-origin-verify", verify),
                        ("cloudfront-viewer-address", viewer),
                    ],
                )
                .await
        }
    };

    // Two viewers behind the same edge address: each its own client.
    register("ann", SECRET, "198.51.100.1:40000")
        .await
        .expect(200, "Check your email...");
    register("ben", SECRET, "198.51.100.1:40001")
        .await
        .expect(429, "too many requests, try again later.");
    register("cat", SECRET, "198.51.100.2:40000")
        .await
        .expect(200, "Check your email...");
    // Without the secret the request did not come through CloudFront: it
    // called the origin directly, around the web ACL, and is refused,
    // whatever viewer it names.
    register("dan", "wrong", "198.51.100.3:1")
        .await
        .expect(403, "forbidden");
    register("eve", "", "198.51.100.4:1")
        .await
        .expect(403, "forbidden");
    let plain = client
        .post(
            "/api/login",
            &serde_json::json!({ "username": "ann", "pwd": PASSWORD }),
        )
        .await;
    plain.expect(403, "forbidden");
    assert!(app.emails_to("dan@example.com").await.is_empty());
}

/// Without edge protection the client is API Gateway's source IP: headers
/// naming another address are a client's own claim and change nothing.
#[tokio::test]
async fn without_the_edge_a_client_cannot_name_its_own_address() {
    let app = TestApp::options()
        .env("IP_LIMIT_REGISTRATION", "1")
        .spawn()
        .await;
    let client = app.peer("127.0.0.10");
    for (name, status) in [("ann", 200), ("ben", 429)] {
        let body = serde_json::json!({
            "username": name, "full_name": "A", "email": format!("{name}@example.com"),
            "phone": null, "contacts": null, "pwd": PASSWORD,
        });
        let viewer = format!("198.51.100.{}:1", status);
        let resp = client
            .post_with(
                "/api/registration",
                &body,
                &[
                    ("x-origin-verify", "anything"),
                    ("cloudfront-viewer-address", &viewer),
                ],
            )
            .await;
        assert_eq!(resp.status, status, "{:?}", resp.body);
    }
}

#[tokio::test]
async fn registrations_and_reset_requests_are_limited_per_client_ip() {
    let app = TestApp::options()
        .env("IP_LIMIT_REGISTRATION", "2")
        .env("IP_LIMIT_RESET", "1")
        .spawn()
        .await;
    app.register("alice", "alice@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    app.register("bob", "bob@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");

    assert_eq!(
        app.register("carol", "carol@example.com", PASSWORD)
            .await
            .status,
        429
    );
    assert_eq!(app.request_reset("bob").await.status, 429);
    assert!(app.emails_to("carol@example.com").await.is_empty());
}

#[tokio::test]
async fn ip_limits_can_be_turned_off() {
    let app = TestApp::options()
        .env("IP_LIMITS", "off")
        .env("IP_LIMIT_LOGIN", "1")
        .spawn()
        .await;
    for i in 0..5 {
        app.login(&format!("user{i}"), PASSWORD, false)
            .await
            .expect(401, "wrong username or password");
    }
}

/// Behind edge protection every request to a guarded function (those
/// holding the origin secret) must come through CloudFront: with a device
/// token, with the per-IP limits off, and on the reset link's route too;
/// the other routes answer as usual.
#[tokio::test]
async fn behind_the_edge_every_guarded_route_refuses_what_went_around_it() {
    const SECRET: &str = "edge-origin-secret-edge-origin-secret-0123";
    let app = TestApp::options()
        .env("EDGE_ORIGIN_SECRET", SECRET)
        .env("IP_LIMITS", "off")
        .spawn()
        .await;
    app.given_user("alice", "alice@example.com").await;
    let client = app.peer("127.0.0.11");
    let through = [
        ("x-origin-verify", SECRET),
        ("cloudfront-viewer-address", "198.51.100.9:1"),
    ];
    let login = serde_json::json!({ "username": "alice", "pwd": PASSWORD });

    let signed_in = client.post_with("/api/login", &login, &through).await;
    signed_in.expect(200, "success");
    let device = signed_in.body["data"]["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = serde_json::json!({ "new_pwd": "An0ther-Passw0rd!x" });
    let token = "A".repeat(43);

    client
        .post_with("/api/login", &login, &[("x-device-token", device.as_str())])
        .await
        .expect(403, "forbidden");
    client
        .post(&format!("/api/reset_password/{token}"), &reset)
        .await
        .expect(403, "forbidden");
    client
        .post_with(&format!("/api/reset_password/{token}"), &reset, &through)
        .await
        .expect(400, "user not found");
    // Not a guarded function: answered as usual.
    app.get("/api/whoami")
        .await
        .expect(401, "authentication required");
}
