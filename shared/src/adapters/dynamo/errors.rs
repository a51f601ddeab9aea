//! SDK failures decoded: which are "try again" (503) and which are bugs or
//! misconfiguration (500), failed conditions, and the per-item reasons of a
//! cancelled transaction.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::ports::{StoreError, StoreResult};

pub(super) fn build<T>(
    what: &str,
    r: Result<T, aws_sdk_dynamodb::error::BuildError>,
) -> StoreResult<T> {
    r.map_err(|e| StoreError::Internal(anyhow::anyhow!("build {what}: {e}")))
}

/// Maps an SDK failure: throttling, contention, timeouts and a dead endpoint
/// are "try again" (503); everything else is a bug or misconfiguration (500).
pub(super) fn sdk_err<E>(op: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = crate::adapters::aws::is_transient(&err);
    let cause = anyhow::anyhow!("DynamoDB {op}: {}", DisplayErrorContext(&err));
    if transient {
        StoreError::Unavailable(cause)
    } else {
        StoreError::Internal(cause)
    }
}

/// `Some(output)` on success, `None` when the write's condition failed.
pub(super) fn conditional<T, E>(
    op: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> StoreResult<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(None),
        Err(e) => Err(sdk_err(op, e)),
    }
}

/// Whether a transaction was cancelled only because a concurrent one touched its items.
pub(super) fn conflicted<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .any(|r| r.code() == Some("TransactionConflict")),
        _ => false,
    }
}

/// Which items of a cancelled transaction failed their condition.
pub(super) fn cancelled_conditions<R>(
    err: &SdkError<TransactWriteItemsError, R>,
) -> Option<Vec<bool>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}
