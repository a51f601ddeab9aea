//! The `rotation` Lambda function: Secrets Manager invokes it, one step at a
//! time, to rotate the signing key on the template's schedule.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use rotation::RotationEvent;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::setup::telemetry::init_lambda();
    let sdk = shared::adapters::aws::sdk_config().await?;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let service_key = std::env::var("SERVICE_KEY_ARN")
        .ok()
        .filter(|v| !v.is_empty());
    lambda_runtime::run(service_fn(|event: LambdaEvent<RotationEvent>| {
        let client = client.clone();
        let service_key = service_key.clone();
        async move {
            rotation::rotate(&client, &event.payload, service_key.as_deref())
                .await
                .map_err(|e| {
                    tracing::error!(
                        step = event.payload.step,
                        error = format!("{e:#}"),
                        "rotation step failed"
                    );
                    lambda_http::Error::from(format!("{e:#}"))
                })
        }
    }))
    .await
}
