//! `GET /`: the service names itself.

use tests::TestApp;

#[tokio::test]
async fn root_names_the_service_and_its_version() {
    let app = TestApp::spawn().await;

    let resp = app.get("/").await;

    resp.expect(200, "user_account");
    assert_eq!(resp.body["data"]["name"], "user_account");
    assert!(!resp.body["data"]["version"].as_str().unwrap().is_empty());
}

/// `/dev/mail` is the dev server's own page, not a route of the API (a
/// Lambda function never serves it); with `STORE=dynamodb` it says that
/// the mail goes to SES and lists none.
#[tokio::test]
async fn the_dev_mailbox_is_no_api_route_and_on_dynamodb_points_at_ses() {
    let plain = TestApp::spawn().await;
    plain.get("/dev/mail").await.expect(404, "not found");
    assert!(
        shared::http::routes::ROUTES
            .iter()
            .all(|r| !r.path.starts_with("/dev")),
        "a /dev route in the route table"
    );

    let app = TestApp::options().env("DEV_MAILBOX", "ses").spawn().await;
    let page = app.request("GET", "/dev/mail").send().await.unwrap();
    let json = app.send(app.request("GET", "/dev/mail.json")).await;

    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    assert!(page.contains("its mail goes to SES"), "{page}");
    assert_eq!(json.status, 200);
    assert_eq!(
        json.body,
        serde_json::json!({"store": "dynamodb", "mail": []})
    );
}
