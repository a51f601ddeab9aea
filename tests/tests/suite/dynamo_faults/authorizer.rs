//! The authorizer when DynamoDB fails: an outage, never a (cached) denial.

use serde_json::json;
use shared::domain::{SessionId, Username};

use super::{NOW, answer, store};

#[tokio::test]
async fn an_authorizer_that_cannot_reach_dynamodb_fails_instead_of_denying() {
    // A denial would be cached by API Gateway for the token, locking its
    // user out for the TTL; a failed invocation is a 500 and caches nothing.
    let unavailable = || {
        answer(
            500,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}),
        )
    };
    let (store, _) = store(vec![unavailable(), unavailable(), unavailable()]).await;
    let config = shared::config::Config::from_lookup(|_| None).unwrap();
    let keys =
        shared::domain::JwtKeys::new(&"test-secret-test-secret-test-secret-0123".into()).unwrap();
    let token = keys
        .issue(
            &config,
            &Username::from_stored("gus".into()),
            &SessionId::generate().unwrap(),
            NOW,
            NOW + 100,
        )
        .unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let app = std::sync::Arc::new(shared::App::new(
        config,
        std::sync::Arc::new(store),
        std::sync::Arc::new(shared::adapters::OutboxMailer::new(outbox.path()).unwrap()),
        std::sync::Arc::new(shared::adapters::ManualClock::new(NOW)),
        Some(shared::ports::KeyRing::fixed(keys)),
    ));
    let event = serde_json::from_value(json!({
        "headers": { "authorization": format!("Bearer {token}") },
        "requestContext": { "http": { "method": "GET" } },
    }))
    .unwrap();

    let decided = authorizer::authorize(app, event).await;

    assert!(decided.is_err(), "{decided:?}");
}
