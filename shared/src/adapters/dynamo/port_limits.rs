//! The DynamoDB store: abuse limits: failed-login runs and fixed-window counters.

use async_trait::async_trait;

use super::*;
use crate::ports::LimitStore;

#[async_trait]
impl LimitStore for DynamoStore {
    async fn login_state(
        &self,
        username: &Username,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<LoginState> {
        self.read_login_state(username, device, now).await
    }

    async fn claim_login_attempt(
        &self,
        run: &FailureRun,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
        attempt: &SessionId,
    ) -> StoreResult<bool> {
        self.claim_run(run, seen, now, expires_at, attempt).await
    }

    async fn hit_for_account(&self, cap: &RateCap, user: &UserRecord) -> StoreResult<WriteOutcome> {
        self.hit_own_counter(cap, user).await
    }

    async fn forget_login_failures(&self, run: &FailureRun) -> StoreResult<()> {
        self.forget_run(run).await
    }

    async fn hit(&self, cap: &RateCap) -> StoreResult<bool> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(cap)))
            .update_expression(COUNTER_UPDATE)
            .condition_expression(COUNTER_CONDITION)
            .set_expression_attribute_values(Some(counter_values(cap)))
            .send()
            .await;
        Ok(conditional("UpdateItem", out)?.is_some())
    }

    async fn refund(&self, cap: &RateCap) -> StoreResult<()> {
        // Only an existing count above zero: a window already gone (its
        // item expired or never written) is not brought back. Not
        // idempotent: should the SDK retry after a lost answer, two counts
        // go back, still bounded by the one success that asked.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(cap)))
            .update_expression("SET n = n - :one")
            .condition_expression("n > :zero")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        conditional("UpdateItem", out)?;
        Ok(())
    }
}
