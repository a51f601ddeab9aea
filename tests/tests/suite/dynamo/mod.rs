//! DynamoDB and SES on moto: races over HTTP, faults, round trips, stored items.
//! Skipped when moto is not running, unless REQUIRE_MOTO=1 (the test script).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use shared::adapters::DynamoStore;
use shared::adapters::SesMailer;
use tests::{Backend, MailSource, PASSWORD, TestApp, moto_endpoint, unique};

macro_rules! require_moto {
    () => {
        if moto_endpoint().is_none() {
            eprintln!("skipped: moto is not running (use scripts/test.sh)");
            return;
        }
    };
}

mod clients;
use clients::{client_seen_by, raw_client};

// After the macro, which they use.
mod calls;
mod consistency;
mod deletion;
mod factors;
mod rotation;
mod round_trips;
mod ses;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_racing_registrations_of_one_username_give_one_account() {
    require_moto!();
    let app = Arc::new(
        TestApp::options()
            .env("IP_LIMITS", "off")
            .backend(Backend::moto(None).await)
            .spawn()
            .await,
    );

    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.register("Racer", &format!("racer{i}@example.com"), PASSWORD)
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }

    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        29,
        "{statuses:?}"
    );
    let confirmations = app.all_emails().await.len();
    assert_eq!(confirmations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_accounts_naming_one_address_and_one_confirms_it() {
    require_moto!();
    let app = Arc::new(
        TestApp::options()
            .env("IP_LIMITS", "off")
            .backend(Backend::moto(None).await)
            .spawn()
            .await,
    );

    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.register(&format!("user{i}"), "shared@example.com", PASSWORD)
                    .await
                    .status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    // Mail to the address is capped (ten an hour); every account was made.
    let mails = app.all_emails().await;
    assert_eq!(mails.len(), 10);
    for i in 0..30 {
        app.login(&format!("user{i}"), PASSWORD, false)
            .await
            .expect(200, "success");
    }

    // The mailbox's owner clicks every link at once: one account gets it.
    let clicks: Vec<_> = mails
        .iter()
        .map(|mail| {
            let app = app.clone();
            let page = tests::links(mail)
                .into_iter()
                .find(|l| l.contains("/confirm_email/"))
                .unwrap();
            // What the page's button calls.
            let path = format!("/api{}", app.path_of(&page));
            tokio::spawn(async move { app.get(&path).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for c in clicks {
        statuses.push(c.await.unwrap());
    }
    statuses.sort_unstable();
    let mut expected = vec![409; 9];
    expected.insert(0, 200);
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn ses_down_means_503_and_a_retry_can_succeed() {
    require_moto!();
    let healthy = Backend::moto(None).await;
    let MailSource::Moto { sender, .. } = &healthy.mail else {
        unreachable!()
    };
    let sdk = shared::adapters::aws::sdk_config()
        .await
        .expect("SDK configuration");
    let dead_ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&sdk)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let broken = Backend {
        store: healthy.store.clone(),
        mailer: Arc::new(SesMailer::new(dead_ses, sender.clone(), None)),
        mail: MailSource::Outbox(tempfile::tempdir().unwrap()),
        table: None,
    };
    let down = TestApp::options().backend(broken).spawn().await;
    let up = TestApp::options().backend(healthy).spawn().await;

    let failed = down.register("alice", "alice@example.com", PASSWORD).await;
    let retried = up.register("alice", "alice@example.com", PASSWORD).await;

    failed.expect(503, "service temporarily unavailable, try again later");
    assert!(failed.header("retry-after").is_some());
    retried.expect(200, "Check your email...");
    assert_eq!(up.emails_to("alice@example.com").await.len(), 1);
}

#[tokio::test]
async fn dynamodb_down_means_a_quick_generic_503() {
    require_moto!();
    let sdk = shared::adapters::aws::sdk_config()
        .await
        .expect("SDK configuration");
    let dead = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let backend = Backend {
        store: Arc::new(DynamoStore::new(dead, "unreachable")),
        ..Backend::memory()
    };
    let app = TestApp::options().backend(backend).spawn().await;

    let started = Instant::now();
    let login = app.login("alice", PASSWORD, false).await;
    let registration = app.register("alice", "alice@example.com", PASSWORD).await;
    let elapsed = started.elapsed();

    for resp in [&login, &registration] {
        resp.expect(503, "service temporarily unavailable, try again later");
        assert_eq!(resp.header("retry-after").as_deref(), Some("1"));
        assert!(!resp.body.to_string().contains("127.0.0.1"));
    }
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn stored_items_hold_hashes_and_expiry_never_secrets() {
    require_moto!();
    let backend = Backend::moto(None).await;
    let table = backend.table.clone().unwrap();
    let app = TestApp::options().backend(backend).spawn().await;
    app.register("Alice", "alice@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    let confirm = app
        .link_to("alice@example.com", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&confirm))
        .await
        .expect(200, "Your email has been confirmed.");
    app.login("alice", "Wrong-Passw0rd!", false).await;
    let jwt = app.token("alice", PASSWORD).await;
    app.request_reset("alice").await;
    let reset = app.reset_token_for("alice@example.com").await;

    let client = raw_client().await;
    let items = client
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let dump = format!("{items:?}");

    let profile = items
        .iter()
        .find(|i| s(i, "pk") == "USER#alice" && s(i, "sk") == "PROFILE")
        .expect("profile item");
    assert!(s(profile, "password_hash").starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(s(profile, "username"), "Alice");
    let address = items
        .iter()
        .find(|i| s(i, "pk") == "EMAIL#alice@example.com")
        .expect("the confirmed address's item");
    assert_eq!(s(address, "username_key"), "alice");
    assert_eq!(s(address, "account_id"), s(profile, "account_id"));
    for secret in [
        PASSWORD,
        confirm.rsplit('/').next().unwrap(),
        reset.as_str(),
        jwt.as_str(),
    ] {
        assert!(!dump.contains(secret), "a secret is stored in clear");
    }
    let tokens: Vec<_> = items
        .iter()
        .filter(|i| s(i, "pk").starts_with("TOKEN#"))
        .collect();
    assert_eq!(tokens.len(), 1, "the confirmation was consumed: {tokens:?}");
    for item in items.iter().filter(|i| {
        let (pk, sk) = (s(i, "pk"), s(i, "sk"));
        pk.starts_with("TOKEN#") || pk.starts_with("RATE#") || sk.starts_with("SESSION#")
    }) {
        assert!(
            matches!(item.get("expires_at"), Some(AttributeValue::N(_))),
            "{item:?}"
        );
    }
    for t in &tokens {
        assert_eq!(s(t, "pk").len(), "TOKEN#".len() + 64, "SHA-256 hex");
    }
    assert!(items.iter().any(|i| s(i, "sk").starts_with("SESSION#")));
    assert!(items.iter().any(|i| s(i, "pk").starts_with("RATE#")));
}

fn s(item: &std::collections::HashMap<String, AttributeValue>, key: &str) -> String {
    item.get(key)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn create_table_enables_ttl_on_expires_at() {
    require_moto!();
    let client = raw_client().await;
    let table = unique("ttl");
    let store = DynamoStore::new(client.clone(), &table);

    store.ensure_table().await.unwrap();
    store.ensure_table().await.unwrap();

    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let desc = ttl.time_to_live_description().unwrap();
    assert_eq!(desc.attribute_name(), Some("expires_at"));
    assert_eq!(
        desc.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
}

#[tokio::test]
async fn misconfiguration_is_a_500_not_a_retry_later() {
    require_moto!();
    let sdk = shared::adapters::aws::sdk_config()
        .await
        .expect("SDK configuration");
    let missing_table = Backend {
        store: Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            unique("no-such-table"),
        )),
        ..Backend::memory()
    };
    let healthy = Backend::moto(None).await;
    let unverified_sender = Backend {
        store: healthy.store.clone(),
        mailer: Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(&sdk),
            "noreply@unverified-sender.test",
            None,
        )),
        mail: MailSource::Outbox(tempfile::tempdir().unwrap()),
        table: None,
    };
    let no_table = TestApp::options().backend(missing_table).spawn().await;
    let bad_sender = TestApp::options().backend(unverified_sender).spawn().await;
    let good = TestApp::options().backend(healthy).spawn().await;

    let login = no_table.login("alice", PASSWORD, false).await;
    let rejected = bad_sender
        .register("alice", "alice@example.com", PASSWORD)
        .await;
    let retried = good.register("alice", "alice@example.com", PASSWORD).await;

    login.expect(500, "internal server error");
    assert!(login.header("retry-after").is_none());
    rejected.expect(500, "internal server error");
    retried.expect(200, "Check your email...");
}

#[tokio::test]
async fn a_deletion_that_failed_after_its_mark_is_finished_by_the_next_sign_in() {
    // A deletion marks the profile first; if it then fails and its session
    // ends, the next read of the account finishes it: the username and the
    // address are free again, never held by a half-deleted account.
    require_moto!();
    let backend = Backend::moto(None).await;
    let table = backend.table.clone().unwrap();
    let app = TestApp::options().backend(backend).spawn().await;
    app.given_user("alice", "alice@example.com").await;
    let token = app.token("alice", PASSWORD).await;
    raw_client()
        .await
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("USER#alice".into()))
        .key("sk", AttributeValue::S("PROFILE".into()))
        .update_expression("SET deleting = :t")
        .expression_attribute_values(":t", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();

    app.login("alice", PASSWORD, false)
        .await
        .expect(401, "wrong username or password");

    app.get_bearer("/api/profile_settings", &token)
        .await
        .expect(401, "authentication required");
    let items = raw_client()
        .await
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let left: Vec<_> = items
        .items()
        .iter()
        .filter_map(|i| i.get("pk").and_then(|v| v.as_s().ok()).cloned())
        .filter(|pk| pk.starts_with("USER#") || pk.starts_with("EMAIL#"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    app.register_confirmed("alice", "alice@example.com").await;
}
