//! Security activity (`GET /api/security_events`, the export's list) and the
//! new-sign-in mail, on the store the suite runs on (memory, or DynamoDB
//! with `TEST_STORE=dynamodb`). The account events: `account_events.rs`.

use serde_json::{Value, json};
use shared::ports::Clock;
use tests::{NEW_PASSWORD, PASSWORD, Resp, TestApp};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                  Chrome/131.0.0.0 Safari/537.36";
const SUBJECT: &str = "Subject: New sign-in to your account";

/// `POST /api/login` from a Chrome on Linux, with a device token if given.
pub(super) async fn login(app: &TestApp, pwd: &str, device: Option<&str>) -> Resp {
    let mut req = app
        .request("POST", "/api/login")
        .header("user-agent", UA)
        .json(&json!({"username": "alice", "pwd": pwd}));
    if let Some(d) = device {
        req = req.header("cookie", format!("device_token={d}"));
    }
    app.send(req).await
}

/// One page of the activity, as `data`.
pub(super) async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app
        .get_bearer(&format!("/api/security_events{query}"), token)
        .await;
    resp.expect(200, "success");
    resp.body["data"].clone()
}

/// The kinds of a list, a sign-in marked `sign_in(new)` when it came
/// from a new device.
pub(super) fn kinds(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = e["kind"].as_str().unwrap().to_owned();
            match e.get("new_device").and_then(Value::as_bool) {
                Some(true) => format!("{kind}(new)"),
                _ => kind,
            }
        })
        .collect()
}

fn rfc3339(secs: i64) -> String {
    shared::http::account::rfc3339(secs)
}

#[tokio::test]
async fn the_activity_lists_what_happened_newest_first_in_pages() {
    let app = TestApp::spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let first = login(&app, PASSWORD, None).await;
    first.expect(200, "success");
    let device = first.body["data"]["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_bearer("/api/logout", &first.token(), &json!({}))
        .await
        .expect(200, "user logout");
    // A wrong password from the owner's own device is the owner's to see;
    // from a client without it (anyone can name any username), it is not.
    login(&app, "Wr0ng-Passw0rd!", Some(&device))
        .await
        .expect(401, "wrong username or password");
    login(&app, "Wr0ng-Passw0rd!", None)
        .await
        .expect(401, "wrong username or password");
    let known = login(&app, PASSWORD, Some(&device)).await;
    known.expect(200, "success");
    let me = known.token();
    login(&app, PASSWORD, None).await.expect(200, "success");
    let sessions = app.get_bearer("/api/sessions", &me).await;
    let other = sessions.body["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete_bearer(&format!("/api/sessions/{other}"), &me)
        .await
        .expect(200, "session ended");
    app.post_bearer(
        "/api/change_password",
        &me,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");
    let export = app
        .post_bearer("/api/account_export", &me, &json!({"pwd": NEW_PASSWORD}))
        .await;
    export.expect(200, "success");

    let expected = [
        "account_exported",
        "password_changed",
        "session_ended",
        "sign_in(new)",
        "sign_in",
        "sign_in_failed",
        "sign_out",
        "sign_in(new)",
        "email_confirmed",
    ];
    let all = page(&app, &me, "?limit=100").await;
    assert_eq!(kinds(&all["events"]), expected);
    assert_eq!(all["cursor"], Value::Null);
    // The export lists the same, itself included.
    assert_eq!(export.body["data"]["security_events"], all["events"]);
    let at = rfc3339(app.clock.now());
    for event in all["events"].as_array().unwrap() {
        assert_eq!(event["at"], at.as_str(), "{event}");
        assert_eq!(event["ip"], "127.0.0.1", "{event}");
        let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
        let sign_in = event["kind"] == "sign_in";
        assert_eq!(keys.len(), if sign_in { 5 } else { 4 }, "{event}");
    }
    // The confirmation link was opened without a User-Agent; the rest by Chrome.
    assert_eq!(all["events"][8]["device"], Value::Null);
    assert_eq!(all["events"][3]["device"], "Chrome on Linux");

    // Pages of 4: the same list, the cursor opaque and null at the end.
    let mut walked = Vec::new();
    let mut query = "?limit=4".to_owned();
    let mut pages = 0;
    loop {
        let data = page(&app, &me, &query).await;
        pages += 1;
        walked.extend(kinds(&data["events"]));
        match data["cursor"].as_str() {
            Some(cursor) => {
                assert!(!cursor.contains("ACTIVITY"), "opaque: {cursor}");
                query = format!("?limit=4&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!((walked, pages), (expected.map(str::to_owned).to_vec(), 3));
    assert_eq!(
        page(&app, &me, "").await["events"]
            .as_array()
            .unwrap()
            .len(),
        9
    );

    for bad in ["?limit=0", "?limit=101", "?limit=x", "?limit=-1"] {
        app.get_bearer(&format!("/api/security_events{bad}"), &me)
            .await
            .expect(400, "limit must be a whole number from 1 to 100.");
    }
    for bad in ["?cursor=zzz", "?cursor=", "?cursor=U0VTU0lPTiN4"] {
        app.get_bearer(&format!("/api/security_events{bad}"), &me)
            .await
            .expect(400, "cursor is not valid.");
    }
    app.get("/api/security_events")
        .await
        .expect(401, "authentication required");
}

#[tokio::test]
async fn the_new_sign_in_mail_comes_once_per_new_client_and_never_for_a_known_one() {
    let app = TestApp::options()
        .env("NEW_SIGNIN_MAIL", "true")
        .env("NEW_SIGNIN_MAIL_CAP", "2")
        .spawn()
        .await;
    app.register_confirmed("alice", "alice@example.com").await;
    let count = async || {
        app.emails_to("alice@example.com")
            .await
            .iter()
            .filter(|m| m.contains(SUBJECT))
            .count()
    };
    let first = login(&app, PASSWORD, None).await;
    first.expect(200, "success");
    let device = first.body["data"]["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(count().await, 1);
    let mail = app.emails_to("alice@example.com").await;
    let mail = mail.iter().find(|m| m.contains(SUBJECT)).unwrap();
    for part in [
        "127.0.0.1",
        "Chrome on Linux",
        "/account",
        "sign out everywhere",
    ] {
        assert!(mail.contains(part), "{part} in {mail}");
    }
    // The owner's own device, again and again: no mail.
    for _ in 0..3 {
        login(&app, PASSWORD, Some(&device))
            .await
            .expect(200, "success");
    }
    assert_eq!(count().await, 1);
    // Another new client: one more; past the cap, sign-ins go on unannounced.
    login(&app, PASSWORD, None).await.expect(200, "success");
    assert_eq!(count().await, 2);
    login(&app, PASSWORD, None).await.expect(200, "success");
    assert_eq!(count().await, 2);
    // An address the account has not confirmed may be a stranger's: no mail.
    app.register("bob", "bob@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    app.login("bob", PASSWORD, false)
        .await
        .expect(200, "success");
    let to_bob = app.emails_to("bob@example.com").await;
    assert!(to_bob.iter().all(|m| !m.contains(SUBJECT)), "{to_bob:?}");
    // A mail that cannot be sent never fails the sign-in.
    app.clock.advance(24 * 3600);
    app.fail_mail_to("alice@example.com");
    login(&app, PASSWORD, None).await.expect(200, "success");
}

#[tokio::test]
async fn the_activity_expires_and_goes_with_the_account() {
    let app = TestApp::options()
        .env("ACTIVITY_TTL_SECS", "100")
        .spawn()
        .await;
    app.register_confirmed("alice", "alice@example.com").await;
    app.clock.advance(101);
    let token = login(&app, PASSWORD, None).await.token();
    assert_eq!(
        kinds(&page(&app, &token, "").await["events"]),
        ["sign_in(new)"]
    );
    app.clock.advance(101);
    let token = login(&app, PASSWORD, None).await.token();
    assert_eq!(
        kinds(&page(&app, &token, "").await["events"]),
        ["sign_in(new)"]
    );

    app.post_bearer("/api/delete_account", &token, &json!({"pwd": PASSWORD}))
        .await
        .expect(200, "Your account has been deleted.");
    // A new account with the name starts with nothing of the old one's.
    app.register_confirmed("alice", "alice2@example.com").await;
    let token = login(&app, PASSWORD, None).await.token();
    assert_eq!(
        kinds(&page(&app, &token, "").await["events"]),
        ["sign_in(new)", "email_confirmed"]
    );
}
