//! Second factors on DynamoDB: the calls each factor route makes (and the
//! IAM actions they need, against template.yaml), and what a scan of the
//! table shows of them: no usable secret, no code.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use shared::ports::Clock;
use tests::{Backend, PASSWORD, TestApp, moto_endpoint};

use super::calls::Calls;

/// The code of the base32 `secret` at `time`, by an implementation no one
/// here wrote (as in `api::mfa`).
fn code_at(secret: &str, time: i64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .expect("base32 key");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &key, u64::try_from(time).unwrap())
}

#[tokio::test]
async fn each_factor_route_makes_the_fewest_dynamodb_calls() {
    require_moto!();
    let calls = Calls::default();
    let client = super::client_seen_by(calls.clone()).await;
    let app = TestApp::options()
        .backend(Backend::moto(Some(client)).await)
        .spawn()
        .await;
    app.register_confirmed("factors", "factors@example.com")
        .await;
    let token = app.token("factors", PASSWORD).await;
    let _ = calls.take();
    let granted = tests::template_dynamodb_actions();
    let mut seen = Vec::new();
    let mut used_by: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut step = |name: &str, (ops, actions): (Vec<&'static str>, BTreeSet<&'static str>)| {
        let function = name.split(' ').next().unwrap();
        for action in &actions {
            assert!(
                granted[function].contains(*action),
                "template.yaml: {function} lacks dynamodb:{action}"
            );
        }
        used_by
            .entry(function.to_owned())
            .or_default()
            .extend(actions);
        seen.push((name.to_owned(), ops));
    };

    app.get_bearer("/api/mfa", &token)
        .await
        .expect(200, "success");
    step("mfa_status", calls.take());
    let resp = app
        .post_bearer("/api/mfa/totp/setup", &token, &json!({ "pwd": PASSWORD }))
        .await;
    resp.expect(
        200,
        "Add the key to your authenticator app, then confirm with a code.",
    );
    step("totp_setup", calls.take());
    let secret = resp.body["data"]["secret"].as_str().unwrap().to_owned();
    let code = || code_at(&secret, app.clock.now());
    let resp = app
        .post_bearer("/api/mfa/totp/confirm", &token, &json!({ "code": code() }))
        .await;
    resp.expect(200, "Two-factor sign-in is on.");
    step("totp_confirm", calls.take());
    let recovery = resp.body["data"]["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app.login("factors", PASSWORD, false).await;
    resp.expect(401, "second factor required");
    step("login (TOTP on)", calls.take());
    let mfa_token = resp.body["data"]["mfa_token"].as_str().unwrap().to_owned();
    app.post(
        "/api/login/mfa",
        &json!({ "mfa_token": mfa_token, "code": recovery }),
    )
    .await
    .expect(200, "success");
    step("login_mfa", calls.take());
    app.clock.advance(30);
    app.post_bearer(
        "/api/mfa/recovery_codes",
        &token,
        &json!({ "pwd": PASSWORD, "code": code() }),
    )
    .await
    .expect(200, "New recovery codes made; the old ones no longer work.");
    step("recovery_codes", calls.take());
    app.clock.advance(30);
    app.post_bearer(
        "/api/mfa/disable",
        &token,
        &json!({ "pwd": PASSWORD, "code": code() }),
    )
    .await
    .expect(200, "Two-factor sign-in is off.");
    step("mfa_disable", calls.take());

    let expected: Vec<(String, Vec<&str>)> = [
        ("mfa_status", vec!["BatchGetItem"]),
        // Session + user, claim the attempt, end the run, the pending secret.
        (
            "totp_setup",
            vec!["BatchGetItem", "UpdateItem", "UpdateItem", "UpdateItem"],
        ),
        // Session + user, the client's mail budget, claim the attempt, end
        // the run, the notice budget (while the account exists), TOTP on
        // with its activity and event items.
        (
            "totp_confirm",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "TransactWriteItems",
            ],
        ),
        // User + runs, the IP window, claim, the pending sign-in (while
        // the account exists), its passkeys (none here: no ceremony), the IP
        // window's count back.
        (
            "login (TOTP on)",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "Query",
                "UpdateItem",
            ],
        ),
        // User + pending sign-in + runs, the IP window, claim on the
        // attempt, claim on the run, (consume + use the code + session +
        // end the run), the IP window's count back, the session cap.
        (
            "login_mfa",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "UpdateItem",
                "Query",
            ],
        ),
    ]
    .into_iter()
    .chain(["recovery_codes", "mfa_disable"].map(|name| {
        // Session + user, the client's mail budget, claim, end the run,
        // the notice budget, use the code (after the notice went out: a
        // 503 or 429 does not spend it), the change with its activity item
        // (and, turning TOTP off, its event).
        (
            name,
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "UpdateItem",
                "TransactWriteItems",
                "UpdateItem",
                "TransactWriteItems",
            ],
        )
    }))
    .map(|(n, ops)| (n.to_owned(), ops))
    .collect();
    for ((name, ops), (want_name, want)) in seen.iter().zip(&expected) {
        if ops != want || name != want_name {
            eprintln!("{name}: {ops:?} (expected {want_name}: {want:?})");
        }
    }
    assert_eq!(seen, expected);
    // No grant unused but those a failure path or a fuller account needs.
    let rarely_used: BTreeSet<(&str, &str)> = [
        // The fifth wrong password or code in a row ends the session.
        // (with the live profile's check and the session_ended item).
        ("totp_setup", "DeleteItem"),
        ("totp_setup", "ConditionCheckItem"),
        ("totp_setup", "PutItem"),
        ("totp_confirm", "DeleteItem"),
        ("recovery_codes", "DeleteItem"),
        ("mfa_disable", "DeleteItem"),
        // A pending sign-in dead after five wrong codes; sessions over the cap.
        ("login_mfa", "DeleteItem"),
        ("login_mfa", "BatchWriteItem"),
        // A passkey as the second factor: the account's live profile.
        ("login_mfa", "ConditionCheckItem"),
    ]
    .into_iter()
    .collect();
    for (function, used) in &used_by {
        if function == "login" {
            continue; // its other paths are round_trips' to check
        }
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

#[tokio::test]
async fn a_scan_of_the_table_shows_no_usable_secret_and_no_code() {
    require_moto!();
    let backend = Backend::moto(None).await;
    let table = backend.table.clone().unwrap();
    let app = TestApp::options().backend(backend).spawn().await;
    app.register_confirmed("scanned", "scanned@example.com")
        .await;
    let token = app.token("scanned", PASSWORD).await;
    let resp = app
        .post_bearer("/api/mfa/totp/setup", &token, &json!({ "pwd": PASSWORD }))
        .await;
    let secret = resp.body["data"]["secret"].as_str().unwrap().to_owned();
    let resp = app
        .post_bearer(
            "/api/mfa/totp/confirm",
            &token,
            &json!({ "code": code_at(&secret, app.clock.now()) }),
        )
        .await;
    resp.expect(200, "Two-factor sign-in is on.");
    let codes: Vec<String> = resp.body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    // A pending sign-in is stored too.
    let pending = app.login("scanned", PASSWORD, false).await;
    pending.expect(401, "second factor required");
    let mfa_token = pending.body["data"]["mfa_token"].as_str().unwrap();

    let items = super::raw_client()
        .await
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let dump = format!("{items:?}").to_lowercase();
    let raw = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    let forms = [
        secret.to_lowercase(),
        data_encoding::HEXLOWER.encode(&raw),
        data_encoding::BASE64.encode(&raw).to_lowercase(),
        data_encoding::BASE64URL_NOPAD.encode(&raw).to_lowercase(),
    ];
    for form in &forms {
        assert!(!dump.contains(form.as_str()), "the key is in the table");
    }
    for code in &codes {
        let bare: String = code.chars().filter(|c| *c != '-').collect();
        assert!(
            !dump.contains(code.as_str()) && !dump.contains(&bare),
            "a code is in the table"
        );
    }
    assert!(
        !dump.contains(&mfa_token.to_lowercase()),
        "the mfa_token is in the table"
    );
    // What is there: a sealed secret and ten keyed hashes.
    let profile = items
        .iter()
        .find(|i| {
            i.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("USER#scanned")
                && i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("PROFILE")
        })
        .expect("profile");
    assert!(profile["totp_secret"].as_s().unwrap().starts_with("v1."));
    assert_eq!(profile["recovery_codes"].as_m().unwrap().len(), 10);
}

#[tokio::test]
async fn the_passkey_routes_an_authenticator_is_not_needed_for_make_the_fewest_calls() {
    require_moto!();
    let calls = Calls::default();
    let client = super::client_seen_by(calls.clone()).await;
    let app = TestApp::options()
        .backend(Backend::moto(Some(client)).await)
        .spawn()
        .await;
    app.register_confirmed("keyed", "keyed@example.com").await;
    let token = app.token("keyed", PASSWORD).await;
    let _ = calls.take();
    let granted = tests::template_dynamodb_actions();
    let mut seen = Vec::new();
    let mut step = |name: &str, (ops, actions): (Vec<&'static str>, BTreeSet<&'static str>)| {
        for action in &actions {
            assert!(
                granted[name].contains(*action),
                "template.yaml: {name} lacks dynamodb:{action}"
            );
        }
        seen.push((name.to_owned(), ops));
    };
    app.get_bearer("/api/passkeys", &token)
        .await
        .expect(200, "success");
    step("passkeys", calls.take());
    app.post_bearer(
        "/api/passkeys/register/start",
        &token,
        &json!({ "pwd": PASSWORD }),
    )
    .await
    .expect(200, "success");
    step("passkey_register_start", calls.take());
    let resp = app.post("/api/passkey_login/start", &json!({})).await;
    resp.expect(200, "success");
    step("passkey_login_start", calls.take());
    let ceremony = resp.body["data"]["ceremony"].as_str().unwrap();
    let junk = json!({ "id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {} });
    app.post(
        "/api/passkey_login/finish",
        &json!({ "ceremony": ceremony, "credential": junk }),
    )
    .await
    .expect(401, "passkey not accepted");
    step("passkey_login_finish", calls.take());
    let expected: Vec<(String, Vec<&str>)> = [
        // The partition (session and passkeys at once).
        ("passkeys", vec!["Query"]),
        // Session + user, claim, end the run, the account's passkeys
        // (excluded), the ceremony (while the account exists).
        (
            "passkey_register_start",
            vec![
                "BatchGetItem",
                "UpdateItem",
                "UpdateItem",
                "Query",
                "TransactWriteItems",
            ],
        ),
        // The IP window, the ceremony.
        ("passkey_login_start", vec!["UpdateItem", "PutItem"]),
        // The IP window, the ceremony taken (a junk answer stops there).
        ("passkey_login_finish", vec!["UpdateItem", "DeleteItem"]),
    ]
    .into_iter()
    .map(|(n, ops)| (n.to_owned(), ops))
    .collect();
    assert_eq!(seen, expected);
}
