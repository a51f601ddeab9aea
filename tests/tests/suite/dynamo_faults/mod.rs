//! The DynamoDB adapter's failure paths that moto never produces, driven by
//! the SDK's own replay HTTP client: each test scripts DynamoDB's answers
//! (status and JSON body, as the service sends them) and checks what the
//! store makes of them - with the production SDK configuration (timeouts,
//! retries), only the HTTP client swapped.

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use shared::adapters::DynamoStore;
use shared::domain::{AccountId, EmailAddress, OneTimeToken, SessionId, Username};
use shared::error::ApiError;
use shared::ports::{
    AccountStore, Confirmation, CreateUserError, FailureRun, LimitStore, LinkStore, SessionStore,
    StoreError, TokenPurpose, TokenRecord, UserRecord,
};

mod authorizer;
mod retries;

const TABLE: &str = "replayed";
const NOW: i64 = 1_800_000_000;

/// One scripted answer of DynamoDB.
fn answer(status: u16, body: Value) -> ReplayEvent {
    let mut resp = HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(body.to_string()),
    );
    resp.headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    // Requests are not compared, only counted and read back.
    ReplayEvent::new(HttpRequest::get("https://dynamodb.invalid/").unwrap(), resp)
}

fn error(code: &str, extra: Value) -> ReplayEvent {
    let mut body = json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
        "message": code,
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    answer(400, body)
}

fn cancelled(reasons: &[&str]) -> ReplayEvent {
    let reasons: Vec<Value> = reasons.iter().map(|r| json!({ "Code": r })).collect();
    error(
        "TransactionCanceledException",
        json!({ "CancellationReasons": reasons }),
    )
}

/// A store whose client replays `events`, configured as in production.
async fn store(events: Vec<ReplayEvent>) -> (DynamoStore, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    let sdk = shared::adapters::aws::sdk_config()
        .await
        .expect("SDK configuration");
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "replay"))
        .http_client(http.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(conf);
    (DynamoStore::new(client, TABLE), http)
}

/// The body of each request the store sent, as JSON.
fn sent(http: &StaticReplayClient) -> Vec<Value> {
    http.actual_requests()
        .map(|r| serde_json::from_slice(r.body().bytes().unwrap_or_default()).unwrap())
        .collect()
}

fn user() -> UserRecord {
    UserRecord::new(
        Username::from_stored("Gus".into()),
        AccountId::from_stored("gus-account".into()),
        "Gus".into(),
        EmailAddress::from_stored("gus@x.io".into()),
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        NOW,
    )
}

fn token(purpose: TokenPurpose) -> TokenRecord {
    TokenRecord {
        hash: OneTimeToken::generate().unwrap().hash(),
        purpose,
        username: Username::from_stored("gus".into()),
        account_id: AccountId::from_stored("gus-account".into()),
        email: EmailAddress::from_stored("gus@example.com".into()),
        expires_at: NOW + 100,
        epoch: 0,
    }
}

/// The profile and one session of `gus`, as DynamoDB returns them.
fn profile_item() -> Value {
    json!({
        "pk": {"S": "USER#gus"}, "sk": {"S": "PROFILE"},
        "username": {"S": "Gus"}, "full_name": {"S": "Gus"}, "email": {"S": "gus@x.io"},
        "password_hash": {"S": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"},
        "is_email_verified": {"BOOL": true}, "created_at": {"N": NOW.to_string()},
        "reset_epoch": {"N": "0"}, "account_id": {"S": "gus-account"}
    })
}

fn session_item() -> Value {
    json!({
        "pk": {"S": "USER#gus"}, "sk": {"S": "SESSION#s1"},
        "created_at": {"N": NOW.to_string()}, "expires_at": {"N": (NOW + 100).to_string()},
        "reset_epoch": {"N": "0"}, "account_id": {"S": "gus-account"}
    })
}

#[tokio::test]
async fn a_registration_cancelled_by_a_transaction_conflict_is_retried() {
    let (store, http) = store(vec![
        cancelled(&["None", "None", "TransactionConflict"]),
        answer(200, json!({})),
    ])
    .await;

    let result = store
        .create_user(&user(), &token(TokenPurpose::Confirm))
        .await;

    assert!(result.is_ok(), "{result:?}");
    let sent = sent(&http);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0]["TransactItems"], sent[1]["TransactItems"],
        "the same transaction, sent again"
    );
}

#[tokio::test]
async fn cancellation_reasons_are_read_per_item() {
    // Registration's items: profile, confirmation token.
    let (registry, http) = store(vec![cancelled(&["ConditionalCheckFailed", "None"])]).await;
    let result = registry
        .create_user(&user(), &token(TokenPurpose::Confirm))
        .await;
    assert!(
        matches!(result, Err(CreateUserError::UsernameTaken)),
        "{result:?}"
    );
    assert_eq!(sent(&http).len(), 1, "not retried");

    // Confirmation's items: token, profile, address. Only a failed address
    // alone means another account holds it.
    for (reasons, expected) in [
        (
            ["None", "None", "ConditionalCheckFailed"],
            Confirmation::AddressTaken,
        ),
        (
            ["None", "ConditionalCheckFailed", "None"],
            Confirmation::NotFound,
        ),
        (
            ["None", "ConditionalCheckFailed", "ConditionalCheckFailed"],
            Confirmation::NotFound,
        ),
        (
            ["ConditionalCheckFailed", "None", "ConditionalCheckFailed"],
            Confirmation::NotFound,
        ),
    ] {
        let token = OneTimeToken::generate().unwrap();
        let (store, http) = store(vec![
            answer(200, json!({ "Item": token_item(&token) })),
            cancelled(&reasons),
        ])
        .await;

        let confirmed = store.confirm_email(&token.hash(), NOW).await.unwrap();

        assert_eq!(confirmed, expected, "{reasons:?}");
        assert_eq!(sent(&http).len(), 2, "{reasons:?}: not retried");
    }
}

/// A live confirmation token of `gus`, as DynamoDB returns it.
fn token_item(token: &OneTimeToken) -> Value {
    json!({
        "pk": {"S": format!("TOKEN#{}", token.hash().as_str())}, "sk": {"S": "TOKEN"},
        "purpose": {"S": "confirm"}, "username_key": {"S": "gus"},
        "expires_at": {"N": (NOW + 100).to_string()}, "epoch": {"N": "0"},
        "account_id": {"S": "gus-account"}, "email": {"S": "gus@example.com"}
    })
}

#[tokio::test]
async fn a_transaction_conflict_that_persists_is_unavailable_not_a_conflict() {
    let (store, http) = store(vec![
        cancelled(&["None", "TransactionConflict", "None"]),
        cancelled(&["None", "TransactionConflict", "None"]),
        cancelled(&["None", "TransactionConflict", "None"]),
    ])
    .await;

    let result = store
        .create_user(&user(), &token(TokenPurpose::Confirm))
        .await;

    assert!(
        matches!(
            result,
            Err(CreateUserError::Store(StoreError::Unavailable(_)))
        ),
        "{result:?}"
    );
    assert_eq!(sent(&http).len(), 3);
}

#[tokio::test]
async fn a_link_clicked_twice_at_once_answers_4xx_not_503() {
    // The second click's transaction conflicts with the first; tried again,
    // it finds the token consumed.
    let token = OneTimeToken::generate().unwrap();
    let (store, http) = store(vec![
        answer(200, json!({ "Item": token_item(&token) })),
        cancelled(&["TransactionConflict", "None", "None"]),
        cancelled(&["ConditionalCheckFailed", "None", "None"]),
    ])
    .await;

    let confirmed = store.confirm_email(&token.hash(), NOW).await;

    assert!(
        matches!(confirmed, Ok(Confirmation::NotFound)),
        "{confirmed:?}"
    );
    assert_eq!(sent(&http).len(), 3);
}

#[tokio::test]
async fn a_login_whose_session_write_conflicts_is_retried() {
    let (store, http) = store(vec![
        // Items: the account check, the session, the failure run.
        cancelled(&["None", "None", "TransactionConflict"]),
        answer(200, json!({})),
    ])
    .await;
    let session = shared::ports::SessionRecord {
        username: Username::from_stored("gus".into()),
        account_id: AccountId::from_stored("gus-account".into()),
        sid: SessionId::from_stored("s1".into()),
        reset_epoch: 0,
        created_at: NOW,
        expires_at: NOW + 100,
        remember: false,
        pwd_failures: 0,
        session_epoch: 0,
        device: None,
        amr: Vec::new(),
        known_device: false,
    };

    let written = store
        .create_session(
            &session,
            Some(&FailureRun::Username(Username::from_stored("gus".into()))),
        )
        .await;

    assert!(matches!(written, Ok(true)), "{written:?}");
    assert_eq!(sent(&http).len(), 2);
}

#[tokio::test]
async fn a_login_attempt_claim_retried_after_it_was_applied_is_still_ours() {
    // The first try reached DynamoDB but its answer was lost (a 500 here);
    // the SDK's retry then fails the compare-and-set against our own write.
    let attempt = SessionId::from_stored("attempt-of-this-login".into());
    for (claimed_by, ours) in [("attempt-of-this-login", true), ("a-rival-attempt", false)] {
        let (store, http) = store(vec![
            answer(
                500,
                json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}),
            ),
            error(
                "ConditionalCheckFailedException",
                json!({ "Item": {
                    "pk": {"S": "RATE#login#gus"}, "sk": {"S": "FAILS"},
                    "n": {"N": "1"}, "last_at": {"N": NOW.to_string()},
                    "expires_at": {"N": (NOW + 100).to_string()},
                    "claim": {"S": claimed_by}
                }}),
            ),
        ])
        .await;

        let claimed = store
            .claim_login_attempt(
                &FailureRun::Username(Username::from_stored("gus".into())),
                shared::domain::LoginFailures::default(),
                NOW,
                NOW + 100,
                &attempt,
            )
            .await
            .unwrap();

        assert_eq!(claimed, ours, "claimed by {claimed_by}");
        assert_eq!(sent(&http).len(), 2);
    }
}
