//! The `events_forwarder` Lambda function: the table's stream (outbox
//! inserts only, by the event source's filter) in, EventBridge out.

use events_forwarder::{EventBridgeSink, forward_event};
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::setup::telemetry::init_lambda();
    let sdk = shared::adapters::aws::sdk_config().await?;
    let bus = std::env::var("EVENT_BUS_NAME")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let sink = EventBridgeSink::new(aws_sdk_eventbridge::Client::new(&sdk), bus);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let sink = &sink;
        async move { Ok::<_, lambda_http::Error>(forward_event(sink, &event.payload).await) }
    }))
    .await
}
