//! The DynamoDB store: sessions: sign-in writes, signed-in checks, passwords re-entered in a session, sign-outs.

use async_trait::async_trait;

use super::*;
use crate::ports::SessionStore;
use aws_sdk_dynamodb::types::TransactWriteItem;

#[async_trait]
impl SessionStore for DynamoStore {
    async fn create_session(
        &self,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool> {
        self.put_session(session, clear).await
    }

    async fn end_sessions_beyond(
        &self,
        username: &Username,
        keep: usize,
        current: &SessionId,
    ) -> StoreResult<usize> {
        self.trim_sessions(username, keep, current).await
    }

    async fn session_user_until(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<(UserRecord, i64)>> {
        self.live_session_user(username, sid, now).await
    }

    async fn session_user_and_failures(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, u32)> {
        self.live_session_user_and_failures(username, sid, now)
            .await
    }

    async fn claim_password_attempt(
        &self,
        username: &Username,
        sid: &SessionId,
        seen: u32,
        now: i64,
    ) -> StoreResult<bool> {
        self.claim_session_attempt(username, sid, seen, now).await
    }

    async fn clear_password_failures(
        &self,
        username: &Username,
        sid: &SessionId,
    ) -> StoreResult<()> {
        self.clear_session_run(username, sid).await
    }

    async fn delete_session(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
        kind: ActivityKind,
    ) -> StoreResult<bool> {
        let session = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), session_sk(sid))))
                .condition_expression("attribute_exists(pk) AND expires_at > :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        // Nothing is written into an account whose deletion has begun.
        let live = build(
            "ConditionCheck",
            aws_sdk_dynamodb::types::ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), PROFILE_SK)))
                .condition_expression(items::LIVE_PROFILE)
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder().delete(session).build(),
            TransactWriteItem::builder().condition_check(live).build(),
            self.activity_put(
                username,
                None,
                &crate::ports::Trail::current().activity(kind),
            )?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn end_all_sessions(&self, user: &UserRecord) -> StoreResult<bool> {
        self.end_every_session(user).await
    }
}
