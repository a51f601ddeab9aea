//! Which DynamoDB reads are strongly consistent, recorded by an SDK
//! interceptor: all but the one that decides no access.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::json;
use tests::{Backend, PASSWORD, TestApp, moto_endpoint};

/// Each DynamoDB read with whether it was strongly consistent and the
/// partition it read (`EMAIL`, `USER`, `TOKEN`, `RATE`: the key's prefix).
/// One read: the operation, whether strongly consistent, the partition.
type Read = (&'static str, bool, String);

#[derive(Debug, Clone, Default)]
struct Reads(Arc<Mutex<Vec<Read>>>);

impl Reads {
    fn take(&self) -> Vec<Read> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn partition(
    key: Option<&std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
) -> String {
    key.and_then(|k| k.get("pk"))
        .and_then(|v| v.as_s().ok())
        .and_then(|pk| pk.split('#').next())
        .unwrap_or("?")
        .to_owned()
}

impl Intercept for Reads {
    fn name(&self) -> &'static str {
        "Reads"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation as op;
        let input = context.input();
        let mut reads = self.0.lock().unwrap();
        if let Some(get) = input.downcast_ref::<op::get_item::GetItemInput>() {
            let consistent = get.consistent_read() == Some(true);
            reads.push(("GetItem", consistent, partition(get.key())));
        }
        if let Some(batch) = input.downcast_ref::<op::batch_get_item::BatchGetItemInput>() {
            for request in batch.request_items().into_iter().flat_map(|m| m.values()) {
                let consistent = request.consistent_read() == Some(true);
                for key in request.keys() {
                    reads.push(("BatchGetItem", consistent, partition(Some(key))));
                }
            }
        }
        if let Some(query) = input.downcast_ref::<op::query::QueryInput>() {
            let consistent = query.consistent_read() == Some(true);
            let pk = query
                .expression_attribute_values()
                .and_then(|v| v.get(":pk"))
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| pk.split('#').next())
                .unwrap_or("?")
                .to_owned();
            reads.push(("Query", consistent, pk));
        }
        Ok(())
    }
}

/// Eventually consistent reads (half the read units) only where the answer
/// decides no access: who holds an address, when choosing which mail to
/// send. Sessions, lockout counters, links and accounts are read strongly
/// consistent: a session just created works at once, one just ended does
/// not.
#[tokio::test]
async fn only_reads_that_decide_no_access_are_eventually_consistent() {
    require_moto!();
    let reads = Reads::default();
    let client = super::client_seen_by(reads.clone()).await;
    let app = TestApp::options()
        .backend(Backend::moto(Some(client)).await)
        .spawn()
        .await;
    let eventual = |reads: &[Read]| {
        reads
            .iter()
            .filter(|(_, consistent, _)| !consistent)
            .map(|(op, _, pk)| format!("{op} {pk}"))
            .collect::<Vec<_>>()
    };
    let _ = reads.take();

    app.register("alice", "alice@example.com", PASSWORD)
        .await
        .expect(200, "Check your email...");
    assert_eq!(eventual(&reads.take()), ["GetItem EMAIL"]);

    let link = app
        .link_to("alice@example.com", "/api/confirm_email/")
        .await;
    app.get(&app.path_of(&link))
        .await
        .expect(200, "Your email has been confirmed.");
    let token = app.token("alice", PASSWORD).await;
    for path in ["/api/profile_settings", "/api/whoami", "/api/sessions"] {
        app.get_bearer(path, &token).await.expect(200, "success");
    }
    app.post_bearer("/api/account_export", &token, &json!({ "pwd": PASSWORD }))
        .await
        .expect(200, "success");
    app.request_reset("alice")
        .await
        .expect(200, "Check your email...");
    let strong = reads.take();
    assert!(strong.len() >= 8, "{strong:?}");
    assert_eq!(eventual(&strong), Vec::<String>::new(), "{strong:?}");

    app.post_bearer(
        "/api/change_email",
        &token,
        &json!({ "pwd": PASSWORD, "new_email": "alice2@example.com" }),
    )
    .await
    .expect(200, "Check your email...");
    assert_eq!(eventual(&reads.take()), ["GetItem EMAIL"]);
    app.get_bearer("/api/logout", &token)
        .await
        .expect(200, "user logout");
    assert_eq!(eventual(&reads.take()), Vec::<String>::new());
}
