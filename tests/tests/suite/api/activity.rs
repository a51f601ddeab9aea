//! Security activity (`GET /api/security_events`, the export's list), the
//! new-sign-in mail and, on the memory store, the outbox of account events:
//! on the store the suite runs on (memory, or DynamoDB with
//! `TEST_STORE=dynamodb`).

use std::sync::Arc;

use serde_json::{Value, json};
use shared::adapters::MemoryStore;
use shared::domain::AccountId;
use shared::domain::activity::EventKind;
use shared::ports::Clock;
use shared::ports::OutboxEvent;
use tests::{Backend, PASSWORD, Resp, TestApp};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                  Chrome/131.0.0.0 Safari/537.36";
const NEW_PASSWORD: &str = "N3w-Passw0rd!x";
const SUBJECT: &str = "Subject: New sign-in to your account";

/// `POST /api/login` from a Chrome on Linux, with a device token if given.
async fn login(app: &TestApp, pwd: &str, device: Option<&str>) -> Resp {
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
async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app
        .get_bearer(&format!("/api/security_events{query}"), token)
        .await;
    resp.expect(200, "success");
    resp.body["data"].clone()
}

/// The kinds of a list, a sign-in marked `sign_in(new)` when it came
/// from a new device.
fn kinds(events: &Value) -> Vec<String> {
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

#[tokio::test]
async fn each_change_puts_one_account_event_in_the_memory_outbox() {
    let store = Arc::new(MemoryStore::new());
    let mut backend = Backend::memory();
    backend.store = store.clone();
    let app = TestApp::options().backend(backend).spawn().await;
    app.register_confirmed("alice", "alice@example.com").await;
    let token = login(&app, PASSWORD, None).await.token();
    app.post_bearer(
        "/api/change_password",
        &token,
        &json!({"pwd": PASSWORD, "new_pwd": NEW_PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");
    // Reads, sign-ins and a refused change are not account events.
    app.post_bearer("/api/delete_account", &token, &json!({"pwd": PASSWORD}))
        .await
        .expect(401, "wrong password");
    app.post_bearer("/api/delete_account", &token, &json!({"pwd": NEW_PASSWORD}))
        .await
        .expect(200, "Your account has been deleted.");

    let events = store.drain_events().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "UserRegistered",
            "EmailConfirmed",
            "PasswordChanged",
            "AccountDeleted"
        ]
    );
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert!(
        ids.iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every event has an id of its own");
    assert!(
        events
            .iter()
            .all(|e| e.username == "alice" && e.account_id == events[0].account_id)
    );
    assert!(store.drain_events().unwrap().is_empty(), "drained once");
}

/// The account events the app's store holds: drained from the memory
/// store, or the outbox items of the DynamoDB table; their detail-types,
/// sorted (one clock second: their order is the stream's business).
async fn outbox_kinds(store: Option<&MemoryStore>, table: Option<&str>) -> Vec<String> {
    let mut kinds: Vec<String> = match (store, table) {
        (Some(store), _) => store
            .drain_events()
            .unwrap()
            .iter()
            .map(|e| e.kind.as_str().to_owned())
            .collect(),
        (None, Some(table)) => {
            let sdk = shared::adapters::aws::sdk_config().await.unwrap();
            aws_sdk_dynamodb::Client::new(&sdk)
                .scan()
                .table_name(table)
                .send()
                .await
                .unwrap()
                .items()
                .iter()
                .filter(|i| i["pk"].as_s().is_ok_and(|pk| pk.starts_with("OUTBOX#")))
                .map(|i| i["detail_type"].as_s().unwrap().clone())
                .collect()
        }
        _ => unreachable!(),
    };
    kinds.sort();
    kinds
}

#[tokio::test]
async fn every_change_of_address_password_and_second_factor_is_recorded() {
    let memory = Arc::new(MemoryStore::new());
    let mut backend = if tests::on_moto() {
        Backend::moto(None).await
    } else {
        Backend::memory()
    };
    let table = backend.table.clone();
    if table.is_none() {
        backend.store = memory.clone();
    }
    let app = TestApp::options().backend(backend).spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    app.change_email(&token, "alice@new.example")
        .await
        .expect(200, "Check your email...");
    let confirm = app
        .link_to("alice@new.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&confirm))
        .await
        .expect(200, "Your email has been confirmed.");
    let revert = app.link_to("alice@old.example", "/api/revert_email/").await;
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    let reset = app.reset_token_for("alice@old.example").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    let token = app.token("alice", NEW_PASSWORD).await;
    let secret = super::mfa::setup(&app, &token, &json!({"pwd": NEW_PASSWORD})).await;
    let code = || super::mfa::code_at(&secret, app.clock.now());
    app.post_bearer("/api/mfa/totp/confirm", &token, &json!({"code": code()}))
        .await
        .expect(200, "Two-factor sign-in is on.");
    app.clock.advance(30);
    app.post_bearer(
        "/api/mfa/recovery_codes",
        &token,
        &json!({"pwd": NEW_PASSWORD, "code": code()}),
    )
    .await
    .expect(200, "New recovery codes made; the old ones no longer work.");
    app.clock.advance(30);
    app.post_bearer(
        "/api/mfa/disable",
        &token,
        &json!({"pwd": NEW_PASSWORD, "code": code()}),
    )
    .await
    .expect(200, "Two-factor sign-in is off.");
    app.post_bearer("/api/logout_all", &token, &json!({}))
        .await
        .expect(200, "user logout");
    let token = app.token("alice", NEW_PASSWORD).await;

    assert_eq!(
        kinds(&page(&app, &token, "").await["events"]),
        [
            "sign_in(new)",
            "session_ended",
            "mfa_disabled",
            "recovery_codes_renewed",
            "mfa_enabled",
            "sign_in(new)",
            "password_reset",
            "email_restored",
            "email_confirmed",
            "email_change_requested",
            "sign_in(new)",
            "email_confirmed",
        ]
    );
    let store = table.is_none().then_some(&*memory);
    assert_eq!(
        outbox_kinds(store, table.as_deref()).await,
        [
            "EmailChanged",
            "EmailConfirmed",
            "EmailRestored",
            "MfaDisabled",
            "MfaEnabled",
            "PasswordReset",
            "UserRegistered",
        ]
    );
}

#[test]
fn the_dev_servers_events_the_file_cannot_take_stay_in_the_outbox() {
    let store = MemoryStore::new();
    let event = OutboxEvent {
        id: "0".repeat(32),
        kind: EventKind::UserRegistered,
        account_id: AccountId::default(),
        username: "alice".into(),
        at: 1_790_000_000,
    };
    store.requeue_events(vec![event]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A directory is not a file one can append to.
    assert!(dev_server::events::drain_once(&store, Some(dir.path())).is_err());
    let file = dir.path().join("events.jsonl");
    assert_eq!(
        dev_server::events::drain_once(&store, Some(&file)).unwrap(),
        1
    );
    let line = std::fs::read_to_string(&file).unwrap();
    let envelope: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(envelope["detail-type"], "UserRegistered");
    assert_eq!(envelope["source"], "user_account");
    assert_eq!(envelope["detail"]["username"], "alice");
    assert_eq!(
        dev_server::events::drain_once(&store, Some(&file)).unwrap(),
        0
    );
}

#[tokio::test]
async fn a_revert_that_takes_two_factor_sign_in_with_it_says_so() {
    let memory = Arc::new(MemoryStore::new());
    let mut backend = if tests::on_moto() {
        Backend::moto(None).await
    } else {
        Backend::memory()
    };
    let table = backend.table.clone();
    if table.is_none() {
        backend.store = memory.clone();
    }
    let app = TestApp::options().backend(backend).spawn().await;
    app.register_confirmed("alice", "alice@old.example").await;
    let token = app.token("alice", PASSWORD).await;
    // Whoever holds the session moves the address, then turns TOTP on.
    app.change_email(&token, "mallory@evil.example")
        .await
        .expect(200, "Check your email...");
    let revert = app.link_to("alice@old.example", "/api/revert_email/").await;
    let secret = super::mfa::setup(&app, &token, &json!({"pwd": PASSWORD})).await;
    let code = super::mfa::code_at(&secret, app.clock.now());
    app.post_bearer("/api/mfa/totp/confirm", &token, &json!({"code": code}))
        .await
        .expect(200, "Two-factor sign-in is on.");
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    let reset = app.reset_token_for("alice@old.example").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    let token = app.token("alice", NEW_PASSWORD).await;
    assert_eq!(
        kinds(&page(&app, &token, "?limit=4").await["events"]),
        [
            "sign_in(new)",
            "password_reset",
            "mfa_disabled",
            "email_restored"
        ]
    );
    let store = table.is_none().then_some(&*memory);
    let events = outbox_kinds(store, table.as_deref()).await;
    assert_eq!(
        events.iter().filter(|k| *k == "MfaDisabled").count(),
        1,
        "{events:?}"
    );
}
