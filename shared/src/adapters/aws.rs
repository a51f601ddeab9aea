//! AWS SDK configuration, loaded once per cold start. Region, credentials and
//! endpoints come from the SDK's own variables (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SESV2`, ...).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// The shared SDK configuration with tight timeouts: a Lambda request should
/// fail fast (and answer 503) rather than hang on a dead endpoint.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50)),
        )
        .load()
        .await
}

/// Service error codes that mean "try again later" (throttling, contention,
/// a failing service). Anything else from a service is our fault or the
/// deployment's (validation, access denied, missing table, rejected mail).
const TRANSIENT_CODES: &[&str] = &[
    "InternalFailure",
    "InternalServerError",
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ThrottlingException",
    "TooManyRequestsException",
    "TransactionCanceledException",
    "TransactionConflictException",
    "TransactionInProgressException",
];

/// Whether an SDK failure is transient (answer 503, retry later) rather than
/// a bug or a misconfiguration (answer 500). Any 5xx from the service is
/// transient, also one whose body the SDK cannot read (an HTML error page
/// from a proxy or a failing front end).
pub fn is_transient<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || err.code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    }
}
