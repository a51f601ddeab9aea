//! Hostile input: bodies, methods, paths, headers and CORS.

use serde_json::json;
use tests::TestApp;

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_bad_requests() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/login",
        "/api/registration",
        "/api/reset_password_request",
    ] {
        for body in ["", "not json", "{\"username\":", "[1,2]", "\"str\"", "null"] {
            let resp = app.post_raw(path, body).await;
            assert_eq!(resp.status, 400, "{path} {body:?}: {:?}", resp.body);
            assert_eq!(resp.body["status"], "ERR");
        }
    }
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_named() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "/api/login",
            json!({"username": 5, "pwd": "x"}),
            "username must be a string.",
        ),
        (
            "/api/login",
            json!({"username": "a", "pwd": "x", "remember": "yes"}),
            "remember must be a boolean.",
        ),
        ("/api/login", json!({"username": "a"}), "pwd is required."),
        ("/api/login", json!({"pwd": "x"}), "username is required."),
        (
            "/api/reset_password_request",
            json!({}),
            "username is required.",
        ),
        (
            "/api/reset_password_request",
            json!({"username": ["a"]}),
            "username must be a string.",
        ),
        (
            "/api/registration",
            json!({"username": "bob"}),
            "full_name is required.",
        ),
        (
            "/api/registration",
            json!({"username": true}),
            "username must be a string.",
        ),
    ];
    for (path, body, msg) in cases {
        app.post(path, &body).await.expect(400, msg);
    }
    let token = "A".repeat(43);
    app.post(&format!("/api/reset_password/{token}"), &json!({}))
        .await
        .expect(400, "new_pwd is required.");
}

#[tokio::test]
async fn bodies_over_16_kib_are_too_large() {
    let app = TestApp::spawn().await;
    let big = json!({ "username": "a".repeat(20 * 1024), "pwd": "x" }).to_string();
    let huge = "x".repeat(200 * 1024);
    for path in [
        "/api/login",
        "/api/registration",
        "/api/reset_password_request",
    ] {
        app.post_raw(path, big.clone())
            .await
            .expect(413, "request body too large");
        app.post_raw(path, huge.clone())
            .await
            .expect(413, "request body too large");
    }
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = TestApp::spawn().await;

    app.get("/nope").await.expect(404, "not found");
    app.get("/api/login/").await.expect(404, "not found");
    let wrong = app.get("/api/login").await;
    let delete = app
        .send(app.request("DELETE", "/api/profile_settings"))
        .await;
    let put = app
        .send(app.request("PUT", &format!("/api/reset_password/{}", "A".repeat(43))))
        .await;

    wrong.expect(405, "method not allowed");
    assert_eq!(wrong.header("allow").as_deref(), Some("POST"));
    assert_eq!(delete.header("allow").as_deref(), Some("GET, POST"));
    assert_eq!(put.header("allow").as_deref(), Some("POST"));
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = TestApp::options()
        .env("CORS_ORIGINS", "http://localhost:5173")
        .spawn()
        .await;
    let preflight = app
        .request("OPTIONS", "/api/login")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    let allowed = app
        .send(
            app.request("GET", "/")
                .header("origin", "http://localhost:5173"),
        )
        .await;
    let foreign = app
        .send(
            app.request("GET", "/")
                .header("origin", "https://evil.example"),
        )
        .await;
    let foreign_preflight = app
        .request("OPTIONS", "/api/login")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();

    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("X-CSRF-TOKEN")
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("X-Device-Token"),
        "a front end on another origin sends its device token"
    );
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("http://localhost:5173")
    );
    assert_eq!(foreign.header("access-control-allow-origin"), None);
    // Like API Gateway: a preflight is answered for every origin, but only an
    // allowed one gets the headers a browser needs to go on.
    assert_eq!(foreign_preflight.status(), 204);
    assert_eq!(
        foreign_preflight
            .headers()
            .get("access-control-allow-origin"),
        None
    );
}

#[tokio::test]
async fn preflights_get_204_on_every_route_and_404_elsewhere() {
    let app = TestApp::spawn().await;
    for route in shared::http::routes::ROUTES {
        let path = route
            .path
            .replace("{token}", &"A".repeat(43))
            .replace("{id}", "some-session");
        let methods: Vec<_> = shared::http::routes::ROUTES
            .iter()
            .filter(|r| r.path == route.path)
            .map(|r| r.method)
            .collect();
        let resp = app
            .request("OPTIONS", &path)
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", route.method)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204, "OPTIONS {path}");
        assert_eq!(
            resp.headers()["allow"],
            format!("{}, OPTIONS", methods.join(", ")).as_str(),
            "OPTIONS {path}"
        );
    }
    app.send(app.request("OPTIONS", "/nope"))
        .await
        .expect(404, "not found");
}

#[tokio::test]
async fn login_csrf_through_a_text_plain_form_is_refused() {
    // A cross-site form can post text/plain (no CORS preflight) whose body is
    // the attacker's JSON credentials: the victim would be signed in as them.
    let app = TestApp::spawn().await;
    app.given_user("mallory", "mallory@example.com").await;
    let creds = json!({ "username": "mallory", "pwd": tests::PASSWORD }).to_string();

    for media in [
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonx"),
        None,
    ] {
        let mut req = app.request("POST", "/api/login").body(creds.clone());
        if let Some(media) = media {
            req = req.header("content-type", media);
        }

        let resp = app.send(req).await;

        resp.expect(415, "Content-Type must be application/json.");
        assert!(resp.set_cookies().is_empty(), "{media:?}");
    }
    for media in ["application/json", "Application/JSON; charset=UTF-8"] {
        let resp = app
            .send(
                app.request("POST", "/api/login")
                    .header("content-type", media)
                    .body(creds.clone()),
            )
            .await;
        resp.expect(200, "success");
    }
}

#[tokio::test]
async fn every_post_route_requires_a_json_content_type() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/login",
        "/api/registration",
        "/api/reset_password_request",
    ] {
        app.send(
            app.request("POST", path)
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await
        .expect(415, "Content-Type must be application/json.");
    }
}

#[tokio::test]
async fn json_answers_forbid_referrers_framing_and_loading() {
    let app = TestApp::spawn().await;
    for resp in [
        app.get("/").await,
        app.get("/nope").await,
        app.post("/api/login", &json!({})).await,
    ] {
        assert_eq!(resp.header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(
            resp.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            resp.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
        assert_eq!(
            resp.header("content-security-policy").as_deref(),
            Some("default-src 'none'; frame-ancestors 'none'")
        );
    }
}

#[tokio::test]
async fn head_on_a_get_route_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    for (path, status) in [("/", 200), ("/api/profile_settings", 401), ("/nope", 404)] {
        let get = app.request("GET", path).send().await.unwrap();
        let head = app.request("HEAD", path).send().await.unwrap();

        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(head.status().as_u16(), status, "HEAD {path}");
        for header in ["content-type", "content-length"] {
            assert_eq!(
                head.headers().get(header),
                get.headers().get(header),
                "HEAD {path}: {header}"
            );
        }
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path}");
    }
    let head = app.request("HEAD", "/api/login").send().await.unwrap();
    assert_eq!(head.status(), 405);
    assert_eq!(head.headers()["allow"], "POST");
}

/// One raw HTTP/1.1 exchange: what the server wrote before closing.
async fn raw_exchange(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server closes the connection")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn oversized_request_heads_get_the_envelope() {
    let app = TestApp::spawn().await;
    let long_path = format!("/api/confirm_email/{}", "a".repeat(11 * 1024));
    let long_url = app.get(&long_path).await;
    let mut many = app.request("GET", "/");
    for i in 0..150 {
        many = many.header(format!("x-h{i}"), "1");
    }
    let many = app.send(many).await;
    let large = app
        .send(
            app.request("GET", "/")
                .header("x-big", "b".repeat(11 * 1024)),
        )
        .await;

    long_url.expect(414, "request URI too long");
    many.expect(431, "request headers too large");
    large.expect(431, "request headers too large");
    // Under API Gateway's limits, the same requests are served.
    app.send(
        app.request("GET", "/")
            .header("x-big", "b".repeat(8 * 1024)),
    )
    .await
    .expect(200, "user_account");
}

#[tokio::test]
async fn a_request_line_hyper_cannot_parse_gets_400_and_the_connection_closes() {
    // hyper answers this itself, before any handler runs: no envelope is
    // possible, but it is a 400 and never a hang or a 5xx.
    let app = TestApp::spawn().await;
    let answer = raw_exchange(&app, b"\x01\x02 garbage\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = TestApp::options()
        .env("HEADER_READ_TIMEOUT_MS", "300")
        .spawn()
        .await;
    // A whole request head would be answered; this one never ends.
    let started = std::time::Instant::now();
    let answer = raw_exchange(&app, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1").await;
    assert!(!answer.contains("200"), "{answer:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

use proptest::strategy::Strategy as _;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever a client sends to a POST route, the answer is the JSON
    /// envelope and never a 5xx.
    #[test]
    fn junk_bodies_get_the_envelope_and_never_a_5xx(
        body in proptest::prop_oneof![
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            "\\{(\"(username|pwd|email|full_name|new_pwd|remember|phone|contacts)\": ?(null|true|-1|1e999|\"[^\"\\\\]{0,40}\"|\\[\\]|\\{\\}), ?){0,6}\"x\": 0\\}"
                .prop_map(String::into_bytes),
        ],
        path in proptest::prop_oneof![
            proptest::strategy::Just("/api/login"),
            proptest::strategy::Just("/api/registration"),
            proptest::strategy::Just("/api/reset_password_request"),
            proptest::strategy::Just("/api/reset_password/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ],
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let app = TestApp::options().env("IP_LIMITS", "off").spawn().await;
            let resp = app.post_raw(path, body.clone()).await;
            assert!(resp.status < 500, "{path}: {} {:?}", resp.status, resp.body);
            assert!(
                resp.body["status"] == "OK" || resp.body["status"] == "ERR",
                "{:?}",
                resp.body
            );
        });
    }
}
