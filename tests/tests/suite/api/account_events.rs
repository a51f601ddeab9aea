//! Account events (the outbox each change writes in its own transaction)
//! and the activity of the changes of address, password and second factor,
//! on the store the suite runs on; the dev server's drain of the memory
//! outbox.

use std::sync::Arc;

use serde_json::json;
use shared::adapters::MemoryStore;
use shared::domain::AccountId;
use shared::domain::activity::EventKind;
use shared::ports::{Clock, OutboxEvent};
use tests::{Backend, NEW_PASSWORD, PASSWORD, TestApp};

use super::activity::{kinds, login, page};

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

/// An app on the store the suite runs on, with what its outbox is read
/// from: the memory store (kept here to drain it) or the DynamoDB table.
async fn app_with_outbox() -> (TestApp, Arc<MemoryStore>, Option<String>) {
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
    (app, memory, table)
}

#[tokio::test]
async fn every_change_of_address_password_and_second_factor_is_recorded() {
    let (app, memory, table) = app_with_outbox().await;
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
    let (app, memory, table) = app_with_outbox().await;
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
