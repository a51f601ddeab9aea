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
