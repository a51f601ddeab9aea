//! DynamoDB clients of the tests: plain, or seen by an interceptor.

/// A client of the production configuration.
pub(super) async fn raw_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(
        &shared::adapters::aws::sdk_config()
            .await
            .expect("SDK configuration"),
    )
}

/// A client of the production configuration whose every call `interceptor`
/// sees first.
pub(super) async fn client_seen_by(
    interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static,
) -> aws_sdk_dynamodb::Client {
    let sdk = shared::adapters::aws::sdk_config()
        .await
        .expect("SDK configuration");
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(interceptor)
            .build(),
    )
}
