//! A deleted account leaves nothing of it in the table but the account
//! events waiting for the forwarder.

use tests::{Backend, PASSWORD, TestApp, moto_endpoint};

use super::clients::raw_client;
use super::s;

#[tokio::test]
async fn a_deleted_account_leaves_no_item_behind() {
    require_moto!();
    let backend = Backend::moto(None).await;
    let table = backend.table.clone().unwrap();
    let app = TestApp::options().backend(backend).spawn().await;
    // An account with everything an account gathers: sessions, a failed
    // login, a reset link, a pending change of address with its two links,
    // counters.
    app.register_confirmed("Alice", "alice@example.com").await;
    app.login("alice", "Wr0ng-Passw0rd!", false).await;
    let token = app.token("alice", PASSWORD).await;
    app.login("alice", PASSWORD, true).await;
    app.request_reset("alice").await;
    app.post_bearer(
        "/api/change_email",
        &token,
        &serde_json::json!({"pwd": PASSWORD, "new_email": "alice@new.example"}),
    )
    .await
    .expect(200, "Check your email...");
    app.login("alice", "Wr0ng-Passw0rd!", false).await;
    // Someone else, whose items must stay.
    app.register_confirmed("bob", "bob@example.com").await;

    app.post_bearer(
        "/api/delete_account",
        &token,
        &serde_json::json!({"pwd": PASSWORD}),
    )
    .await
    .expect(200, "Your account has been deleted.");

    let items = raw_client()
        .await
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    // The account events waiting for the forwarder are the one exception:
    // under their own key, naming the account by its id and username only
    // (never its address), gone with their TTL a day after they were written.
    let (outbox, rest): (Vec<_>, Vec<_>) = items
        .iter()
        .partition(|i| s(i, "pk").starts_with("OUTBOX#"));
    let left: Vec<String> = rest
        .iter()
        .map(|i| format!("{i:?}"))
        .filter(|i| i.to_lowercase().contains("alice"))
        .collect();
    assert!(left.is_empty(), "items of the deleted account: {left:#?}");
    let mut kinds: Vec<String> = outbox
        .iter()
        .filter(|i| s(i, "username") == "alice")
        .map(|i| s(i, "detail_type"))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["AccountDeleted", "EmailConfirmed", "UserRegistered"],
        "one event per change that has one"
    );
    for item in &outbox {
        let text = format!("{item:?}").to_lowercase();
        assert!(
            !text.contains("example.com") && !text.contains("new.example"),
            "{text}"
        );
        let n = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .unwrap()
                .parse::<i64>()
                .unwrap()
        };
        assert_eq!(n("expires_at") - n("at"), 24 * 3600);
    }
    assert!(
        items.iter().any(|i| s(i, "pk") == "USER#bob"),
        "the other account is untouched"
    );
}
