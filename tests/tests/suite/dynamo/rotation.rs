//! Rotating the signing key in Secrets Manager (moto) in the middle of
//! sessions: `put-secret-value`, as docs/INTEGRATION.md tells it.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use shared::adapters::{MemoryStore, OutboxMailer, SecretsManagerKeys};
use shared::domain::{JwtKeys, SessionId, Username};
use shared::ports::{Clock, KeyRing, MAX_KEY_AGE_SECS, UserStore};
use tests::{Backend, MailSource, PASSWORD, TestApp, moto_endpoint, unique};

const OLD: &str = "old-signing-key-of-at-least-thirty-two-bytes";
const NEW: &str = "new-signing-key-of-at-least-thirty-two-bytes";
const NEWER: &str = "newer-signing-key-of-at-least-thirty-two-bytes";

/// A backend on `store` (so that several "containers" share one table).
fn on(store: &Arc<dyn UserStore>) -> Backend {
    let outbox = tempfile::tempdir().unwrap();
    Backend {
        store: store.clone(),
        mailer: Arc::new(OutboxMailer::new(outbox.path()).unwrap()),
        mail: MailSource::Outbox(outbox),
        table: None,
    }
}

/// A function container's cold start: the current key, and the secret to
/// read again for a `kid` it has not seen.
async fn container(store: &Arc<dyn UserStore>, source: &Arc<SecretsManagerKeys>) -> TestApp {
    // The test apps' clocks start at the same second (ManualClock's default).
    let started = 1_790_000_000;
    let keys = KeyRing::refreshing(
        source.load_current().await.unwrap(),
        source.clone(),
        started,
    );
    let app = TestApp::options()
        .backend(on(store))
        .keys(keys)
        .spawn()
        .await;
    assert_eq!(app.clock.now(), started);
    app
}

fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_rotation_in_the_middle_of_a_session_logs_nobody_out() {
    require_moto!();
    let sm = aws_sdk_secretsmanager::Client::new(
        &shared::adapters::aws::sdk_config()
            .await
            .expect("SDK configuration"),
    );
    let arn = sm
        .create_secret()
        .name(unique("jwt"))
        .secret_string(OLD)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let source = Arc::new(SecretsManagerKeys::new(sm.clone(), arn.clone()));
    let store: Arc<dyn UserStore> = Arc::new(MemoryStore::new());

    // A container started before the rotation stays warm through it.
    let warm = container(&store, &source).await;
    warm.given_user("alice", "alice@example.com").await;
    let before = warm.token("alice", PASSWORD).await;
    let cookie_login = warm.login("alice", PASSWORD, false).await;

    // A warm login function, which only signs, goes on signing with the
    // old key until its keys are MAX_KEY_AGE_SECS old, then reads them again.
    let signer = container(&store, &source).await;
    let kid = |t: &str| JwtKeys::kid_of(t).unwrap();
    let _ = signer.token("alice", PASSWORD).await;
    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string(NEW)
        .send()
        .await
        .unwrap();
    signer.clock.advance(MAX_KEY_AGE_SECS - 1);
    assert_eq!(kid(&signer.token("alice", PASSWORD).await), kid(&before));
    signer.clock.advance(1);
    let by_signer = signer.token("alice", PASSWORD).await;
    assert_ne!(kid(&by_signer), kid(&before));

    // A container started after it signs with the new key.
    let fresh = container(&store, &source).await;
    let after = fresh.token("alice", PASSWORD).await;
    assert_eq!(kid(&after), kid(&by_signer));

    // Both tokens work in both containers: the old key verifies as the
    // previous one, and the warm container learns the new key from the
    // token that names it.
    for app in [&warm, &fresh] {
        for token in [&before, &after] {
            app.get_bearer("/api/whoami", token)
                .await
                .expect(200, "success");
        }
    }
    // A cookie session from before the rotation can still write: its CSRF
    // token is derived from the key that signed it.
    let jwt = cookie_login.cookie_value("access_token_cookie");
    let csrf = cookie_login.cookie_value("csrf_access_token");
    fresh
        .send(
            fresh
                .request("POST", "/api/profile_settings")
                .header(
                    "cookie",
                    format!("access_token_cookie={jwt}; csrf_access_token={csrf}"),
                )
                .header("x-csrf-token", &csrf)
                .json(&json!({"full_name": "Alice R."})),
        )
        .await
        .expect(200, "success");

    // A token for the same live session, signed with a key that was never
    // current, is refused everywhere.
    let stranger = JwtKeys::new(&SecretString::from("s".repeat(40))).unwrap();
    let sid = SessionId::parse(claims(&before)["sid"].as_str().unwrap()).unwrap();
    let forged = stranger
        .issue(
            &fresh.app.config,
            &Username::parse("alice").unwrap(),
            &sid,
            fresh.clock.now(),
            fresh.clock.now() + 3600,
        )
        .unwrap();
    for app in [&warm, &fresh] {
        app.get_bearer("/api/whoami", &forged)
            .await
            .expect(401, "authentication required");
    }

    // Tokens signed before the rotation still expire as they did.
    fresh.clock.advance(24 * 3600);
    fresh
        .get_bearer("/api/whoami", &before)
        .await
        .expect(401, "authentication required");

    // A second rotation retires the first key: a container started after it
    // no longer accepts what the first key signed.
    let newest = container(&store, &source).await;
    let again = newest.token("alice", PASSWORD).await;
    sm.put_secret_value()
        .secret_id(&arn)
        .secret_string(NEWER)
        .send()
        .await
        .unwrap();
    let last = container(&store, &source).await;
    let warm_now = warm.token("alice", PASSWORD).await;
    assert_eq!(
        kid(&warm_now),
        kid(&after),
        "the warm container learnt the new key"
    );
    last.get_bearer("/api/whoami", &again)
        .await
        .expect(200, "success");
    let retired = JwtKeys::new(&SecretString::from(OLD)).unwrap();
    let by_old_key = retired
        .issue(
            &last.app.config,
            &Username::parse("alice").unwrap(),
            &SessionId::parse(claims(&again)["sid"].as_str().unwrap()).unwrap(),
            last.clock.now(),
            last.clock.now() + 3600,
        )
        .unwrap();
    last.get_bearer("/api/whoami", &by_old_key)
        .await
        .expect(401, "authentication required");
}

/// One step of Secrets Manager's rotation, as it invokes the function.
async fn step(sm: &aws_sdk_secretsmanager::Client, arn: &str, token: &str, name: &str) {
    step_of(sm, arn, token, name, None).await;
}

/// [`step`], naming the service tokens' secret.
async fn step_of(
    sm: &aws_sdk_secretsmanager::Client,
    arn: &str,
    token: &str,
    name: &str,
    service_key: Option<&str>,
) {
    let event: rotation::RotationEvent = serde_json::from_value(json!({
        "SecretId": arn, "ClientRequestToken": token, "Step": name,
    }))
    .unwrap();
    rotation::rotate(sm, &event, service_key)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
}

#[tokio::test]
async fn the_scheduled_rotation_keeps_sessions_and_signs_new_ones_with_the_new_key() {
    require_moto!();
    let sm = aws_sdk_secretsmanager::Client::new(
        &shared::adapters::aws::sdk_config()
            .await
            .expect("SDK configuration"),
    );
    let arn = sm
        .create_secret()
        .name(unique("jwt"))
        .secret_string(OLD)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let source = Arc::new(SecretsManagerKeys::new(sm.clone(), arn.clone()));
    let store: Arc<dyn UserStore> = Arc::new(MemoryStore::new());
    let before_rotation = container(&store, &source).await;
    before_rotation
        .given_user("alice", "alice@example.com")
        .await;
    let signed_before = before_rotation.token("alice", PASSWORD).await;
    let old_kid = JwtKeys::kid_of(&signed_before).unwrap();

    // The four steps, as Secrets Manager invokes them (a retried step is a
    // no-op: createSecret twice keeps one new key).
    let version = format!("{}-{}", unique("rotation"), "0123456789abcdef");
    for name in [
        "createSecret",
        "createSecret",
        "setSecret",
        "testSecret",
        "finishSecret",
    ] {
        step(&sm, &arn, &version, name).await;
    }
    step(&sm, &arn, &version, "finishSecret").await;

    let described = sm.describe_secret().secret_id(&arn).send().await.unwrap();
    let stages = described.version_ids_to_stages().unwrap();
    assert_eq!(stages[&version], vec!["AWSCURRENT".to_owned()]);
    let current = sm
        .get_secret_value()
        .secret_id(&arn)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap()
        .secret_string
        .unwrap();
    assert_ne!(current, OLD);
    assert!(current.len() >= 32, "a new random key of 48 bytes");

    // A function started after the rotation: the session signed before it
    // still works, and a new login is signed with the new key.
    let after_rotation = container(&store, &source).await;
    after_rotation
        .get_bearer("/api/profile_settings", &signed_before)
        .await
        .expect(200, "success");
    let signed_after = after_rotation.token("alice", PASSWORD).await;
    let new_kid = JwtKeys::kid_of(&signed_after).unwrap();
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        new_kid,
        JwtKeys::new(&SecretString::from(current))
            .unwrap()
            .current_kid()
    );
    // And the function that started before it verifies the new tokens too.
    before_rotation
        .get_bearer("/api/profile_settings", &signed_after)
        .await
        .expect(200, "success");
}

#[tokio::test]
async fn the_service_key_secret_rotates_to_a_new_rsa_key_pair() {
    require_moto!();
    let sm = aws_sdk_secretsmanager::Client::new(
        &shared::adapters::aws::sdk_config()
            .await
            .expect("SDK configuration"),
    );
    // As the template creates it: a random string until its first rotation.
    let arn = sm
        .create_secret()
        .name(unique("service-key"))
        .secret_string("not-a-key-yet-0123456789abcdef0123456789")
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let mut kids = Vec::new();
    for round in 0..2 {
        let version = format!("{}-{round}-0123456789abcdef", unique("rotation"));
        for name in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
            step_of(&sm, &arn, &version, name, Some(&arn)).await;
        }
        let (current, previous) = SecretsManagerKeys::new(sm.clone(), arn.clone())
            .current_and_previous()
            .await
            .unwrap();
        let key = shared::domain::service_token::ServiceKey::from_pem(current.expose_secret())
            .expect("the rotation made a PEM key pair");
        kids.push(key.kid().to_owned());
        assert!(previous.is_some());
    }
    assert_ne!(kids[0], kids[1], "each rotation, a new key pair");
}
