//! DynamoDB calls per endpoint, counted by an SDK interceptor, and the IAM
//! actions they need checked against template.yaml.

use std::collections::BTreeSet;

use serde_json::json;
use tests::{Backend, NEW_PASSWORD, PASSWORD, TestApp, moto_endpoint};

use super::calls::Calls;

#[tokio::test]
async fn each_endpoint_makes_the_fewest_dynamodb_calls() {
    require_moto!();
    let calls = Calls::default();
    let client = super::client_seen_by(calls.clone()).await;
    // One session a user: the second login ends the first (the session cap's
    // extra calls show, and their IAM grants are checked).
    let app = TestApp::options()
        .env("SESSION_LIMIT", "1")
        .backend(Backend::moto(Some(client)).await)
        .spawn()
        .await;
    let _ = calls.take(); // the harness's table creation
    let mut seen = Vec::new();
    let mut used_by: std::collections::BTreeMap<String, BTreeSet<&'static str>> =
        Default::default();
    let granted = tests::template_dynamodb_actions();
    let mut step = |name: &str, (ops, actions): (Vec<&'static str>, BTreeSet<&'static str>)| {
        // The function's IAM policy in template.yaml must allow what it just did.
        let function = name.split(' ').next().unwrap();
        let allowed = &granted[function];
        for action in &actions {
            assert!(
                allowed.contains(*action),
                "template.yaml: {function} lacks dynamodb:{action}"
            );
        }
        used_by
            .entry(function.to_owned())
            .or_default()
            .extend(actions);
        seen.push((name.to_owned(), ops));
    };

    app.get("/").await.expect(200, "user_account");
    step("index", calls.take());
    app.register("alice", "alice@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    step("registration", calls.take());
    let link = app
        .link_to("alice@example.com", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(200, "Your email has been confirmed.");
    step("confirm_email", calls.take());
    app.login("alice", "Wrong-Passw0rd!", false)
        .await
        .expect(401, "wrong username or password");
    step("login (wrong password)", calls.take());
    let token = app.token("alice", PASSWORD).await;
    step("login (after a failure)", calls.take());
    let token2 = app.token("alice", PASSWORD).await;
    step("login", calls.take());
    // The second login ended the first session (SESSION_LIMIT=1).
    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(401, "authentication required");
    let _ = calls.take();
    app.get_bearer("/api/profile_settings", &token2)
        .await
        .expect(200, "success");
    step("profile_settings", calls.take());
    app.get_bearer("/api/whoami", &token2)
        .await
        .expect(200, "success");
    step("whoami", calls.take());
    let event = serde_json::from_value(serde_json::json!({
        "headers": { "authorization": format!("Bearer {token2}") },
        "requestContext": { "http": { "method": "GET" } },
    }))
    .unwrap();
    let answer = authorizer::authorize(app.app.clone(), event).await.unwrap();
    assert!(answer.is_authorized);
    step("authorizer", calls.take());
    app.get_bearer("/api/logout", &token2)
        .await
        .expect(200, "user logout");
    step("logout", calls.take());
    // A live session for the reset to end.
    let token3 = app.token("alice", PASSWORD).await;
    let _ = calls.take();
    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");
    step("reset_password_request", calls.take());
    let reset = app.reset_token_for("alice@example.com").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    step("reset_password", calls.take());
    app.get_bearer("/api/profile_settings", &token3)
        .await
        .expect(401, "authentication required");

    // The account lifecycle (SESSION_LIMIT=1 still: one session at a time).
    let me = app.token("alice", NEW_PASSWORD).await;
    let _ = calls.take();
    app.post_bearer(
        "/api/profile_settings",
        &me,
        &json!({"full_name": "Alice L"}),
    )
    .await
    .expect(200, "success");
    step("update_profile", calls.take());
    let listed = app.get_bearer("/api/sessions", &me).await;
    listed.expect(200, "success");
    step("sessions", calls.take());
    app.get_bearer("/api/security_events?limit=5", &me)
        .await
        .expect(200, "success");
    step("security_events", calls.take());
    app.delete_bearer("/api/sessions/not-a-session", &me)
        .await
        .expect(404, "session not found");
    step("end_session (none)", calls.take());
    app.post_bearer(
        "/api/change_password",
        &me,
        &json!({"pwd": NEW_PASSWORD, "new_pwd": PASSWORD}),
    )
    .await
    .expect(200, "Your password has been changed.");
    step("change_password", calls.take());
    app.post_bearer(
        "/api/change_email",
        &me,
        &json!({"pwd": PASSWORD, "new_email": "alice@new.example"}),
    )
    .await
    .expect(200, "Check your email...");
    step("change_email", calls.take());
    let link = app
        .link_to("alice@new.example", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(200, "Your email has been confirmed.");
    step("confirm_email (new address)", calls.take());
    let revert = app.link_to("alice@example.com", "/api/revert_email/").await;
    app.get(&app.path_of(&revert))
        .await
        .expect(200, "Your email has been restored.");
    step("revert_email", calls.take());
    // The revert disabled the password: the reset link it mailed sets one.
    let reset = app.reset_token_for("alice@example.com").await;
    app.reset_password(&reset, NEW_PASSWORD)
        .await
        .expect(200, "Your password has been reset.");
    let me = app.token("alice", NEW_PASSWORD).await;
    let _ = calls.take();
    app.post_bearer("/api/account_export", &me, &json!({"pwd": NEW_PASSWORD}))
        .await
        .expect(200, "success");
    step("account_export", calls.take());
    app.post_bearer("/api/logout_all", &me, &json!({}))
        .await
        .expect(200, "user logout");
    step("logout_all", calls.take());
    app.register("bob", "bob@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let bob = app.token("bob", PASSWORD).await;
    let _ = calls.take();
    app.post_bearer("/api/resend_confirmation", &bob, &json!({}))
        .await
        .expect(200, "Check your email...");
    step("resend_confirmation", calls.take());
    app.post_bearer("/api/delete_account", &bob, &json!({"pwd": PASSWORD}))
        .await
        .expect(200, "Your account has been deleted.");
    step("delete_account", calls.take());

    let expected: Vec<(String, Vec<&str>)> = [
        ("index", vec![]),
        (
            // Per-IP window, per-client mail budget, address holder, the
            // account, the address's mail budget.
            "registration",
            vec![
                "UpdateItem",
                "UpdateItem",
                "GetItem",
                "TransactWriteItems",
                "UpdateItem",
            ],
        ),
        ("confirm_email", vec!["GetItem", "TransactWriteItems"]),
        (
            // The account and its runs, the per-IP window (no device
            // token), the claim.
            "login (wrong password)",
            vec!["BatchGetItem", "UpdateItem", "UpdateItem"],
        ),
        (
            // ... and on success the per-IP count given back.
            "login (after a failure)",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "UpdateItem",
                "Query",
            ],
        ),
        (
            "login",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "UpdateItem",
                "Query",
                "BatchWriteItem",
            ],
        ),
        ("profile_settings", vec!["BatchGetItem"]),
        ("whoami", vec!["BatchGetItem"]),
        ("authorizer", vec!["BatchGetItem"]),
        // The session's deletion, the live profile's check, its activity item.
        ("logout", vec!["TransactWriteItems"]),
        (
            // A confirmed address: no address budget, the token under the
            // per-user-and-client budget and the per-user ceiling.
            "reset_password_request",
            vec!["UpdateItem", "UpdateItem", "GetItem", "TransactWriteItems"],
        ),
        (
            "reset_password",
            vec!["GetItem", "TransactWriteItems", "Query", "BatchWriteItem"],
        ),
        ("update_profile", vec!["BatchGetItem", "UpdateItem"]),
        ("sessions", vec!["Query"]),
        // The session and profile, then one page of the activity.
        ("security_events", vec!["BatchGetItem", "Query"]),
        ("end_session (none)", vec!["Query"]),
        (
            // Session and profile, mail budget, the session's claim and its
            // reset, the notice budget (while the account exists), the
            // change, cleanup.
            "change_password",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "TransactWriteItems",
                "Query",
            ],
        ),
        (
            // Session and profile, mail budget, claim, its reset, address
            // holder, the user's budget (while the account exists), the
            // change, the new address's budget.
            "change_email",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "UpdateItem",
                "GetItem",
                "TransactWriteItems",
                "TransactWriteItems",
                "UpdateItem",
            ],
        ),
        (
            "confirm_email (new address)",
            vec!["GetItem", "GetItem", "TransactWriteItems"],
        ),
        (
            // The link, the account, the address's holder, its passkeys
            // (those added since go), the recovery.
            "revert_email",
            vec![
                "GetItem",
                "GetItem",
                "GetItem",
                "Query",
                "TransactWriteItems",
                "Query",
                "BatchWriteItem",
            ],
        ),
        // The partition, the session's claim and its reset, the export's
        // activity item (with the live profile's check), the activity.
        (
            "account_export",
            vec![
                "Query",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "Query",
            ],
        ),
        (
            "logout_all",
            vec![
                "BatchGetItem",
                "TransactWriteItems",
                "Query",
                "BatchWriteItem",
            ],
        ),
        (
            "resend_confirmation",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "GetItem",
                "TransactWriteItems",
                "UpdateItem",
            ],
        ),
        (
            // The partition, mail budget, claim and its reset, notice budget
            // (while the account exists), the unconfirmed address's budget,
            // the mark that stops every write for the account, the
            // partition again, the activity's keys, the four per-user counter
            // partitions, then the deletion.
            "delete_account",
            vec![
                "Query",
                "UpdateItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "UpdateItem",
                "UpdateItem",
                "Query",
                "Query",
                "Query",
                "Query",
                "Query",
                "Query",
                "BatchWriteItem",
                "DeleteItem",
                "TransactWriteItems",
            ],
        ),
    ]
    .into_iter()
    .map(|(n, ops)| (n.to_owned(), ops))
    .collect();
    for ((name, ops), (want_name, want)) in seen.iter().zip(&expected) {
        if ops != want || name != want_name {
            eprintln!("{name}: {ops:?} (expected {want_name}: {want:?})");
        }
    }
    assert_eq!(seen, expected);
    // And no grant goes unused: what each function did in this run is
    // exactly what template.yaml grants it, but for the actions only a
    // failure path or a fuller account needs (each named with its reason).
    let rarely_used: BTreeSet<(&str, &str)> = [
        ("registration", "DeleteItem"), // undo after a failed send; a retry's lockout
        ("registration", "BatchGetItem"), // a taken username: is it this client's retry?
        ("registration", "ConditionCheckItem"), // that retry's link: only while the account is
        ("change_password", "BatchWriteItem"), // other sessions to delete
        // A passkey added since the reverted change: removed, with a check
        // that the account is live (scripts/passkeys_e2e.py reverts one).
        ("revert_email", "ConditionCheckItem"),
        // A session that exists: its deletion, the live profile's check and
        // the activity item, in one transaction.
        ("end_session", "DeleteItem"),
        ("end_session", "ConditionCheckItem"),
        ("end_session", "PutItem"),
        // The fifth wrong password in a row ends the session.
        ("account_export", "DeleteItem"),
        ("change_email", "DeleteItem"),
        ("change_password", "DeleteItem"),
    ]
    .into_iter()
    .collect();
    for (function, used) in &used_by {
        let granted: BTreeSet<&str> = granted[function.as_str()]
            .iter()
            .map(String::as_str)
            .filter(|a| !rarely_used.contains(&(function.as_str(), *a)))
            .collect();
        let used: BTreeSet<&str> = used
            .iter()
            .copied()
            .filter(|a| !rarely_used.contains(&(function.as_str(), *a)))
            .collect();
        assert_eq!(
            used, granted,
            "template.yaml grants {function} more than it uses"
        );
    }
}
