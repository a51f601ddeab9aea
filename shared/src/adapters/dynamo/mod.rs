//! The DynamoDB adapter: one table, `pk`/`sk` string keys, `expires_at` TTL.
//!
//! | pk | sk | item |
//! |---|---|---|
//! | `USER#<username key>` | `PROFILE` | the user |
//! | `USER#<username key>` | `SESSION#<sid>` | one session |
//! | `EMAIL#<email key>` | `EMAIL` | the account that confirmed the address |
//! | `TOKEN#<sha256>` | `TOKEN` | one-time token |
//! | `RATE#login#<username key>` | `FAILS` | failed-login run of clients without a device token |
//! | `RATE#device#<device id>` | `FAILS` | failed-login run of one device |
//! | `RATE#<scope>#<key>` | `<window start>` | fixed-window counter |
//!
//! Expiry is always checked in code too: TTL deletes late (up to days).

mod account;
mod batch;
mod capped;
mod email_change;
mod errors;
mod items;
mod runs;
mod sessions;
mod table;
mod transact;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};

use self::errors::{build, cancelled_conditions, conditional, sdk_err};
use self::items::{
    COUNTER_CONDITION, COUNTER_UPDATE, EMAIL_SK, EmailItem, PROFILE_SK, TOKEN_SK, TokenItem,
    UserItem, counter_key, counter_values, email_pk, from_item, key, n, same_account, session_sk,
    to_item, token_item, token_pk, token_ref_item, token_ref_sk, user_pk, with_account,
};
use crate::domain::{
    DeviceId, EmailAddress, LoginFailures, RateCap, SessionId, TokenHash, Username,
};
use crate::ports::{
    AccountData, Confirmation, CreateUserError, FailureRun, LoginState, PendingEmail,
    SessionRecord, StoreResult, TokenPurpose, TokenRecord, UserRecord, UserStore, WriteOutcome,
};

pub use self::items::TTL_ATTRIBUTE;

/// Users, sessions, tokens and counters in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client` (built once per cold start).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> Result<(), CreateUserError> {
        let new = Some("attribute_not_exists(pk)");
        let items = vec![
            self.put(
                to_item(&UserItem {
                    pk: user_pk(&user.username),
                    sk: PROFILE_SK.into(),
                    user: user.clone(),
                    deleting: None,
                })?,
                new,
            )?,
            self.put(token_item(confirm)?, new)?,
            self.put(token_ref_item(confirm)?, None)?,
        ];
        // Two registrations racing for one name can make DynamoDB cancel one
        // with TransactionConflict: `transact` tries again, and the loser
        // then sees the winner's item (409).
        let Err(err) = self.transact(items).await else {
            return Ok(());
        };
        match cancelled_conditions(&err).as_deref() {
            Some([true, ..]) => Err(CreateUserError::UsernameTaken),
            _ => Err(sdk_err("TransactWriteItems", err).into()),
        }
    }

    async fn delete_unverified_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> StoreResult<()> {
        let (account, account_value) = same_account(&user.account_id);
        let profile = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .condition_expression(format!(
                    "is_email_verified = :f AND created_at = :c AND {account}"
                ))
                .set_expression_attribute_values(with_account(
                    HashMap::from([
                        (":f".to_owned(), AttributeValue::Bool(false)),
                        (":c".to_owned(), n(user.created_at)),
                    ]),
                    account_value,
                ))
                .build(),
        )?;
        let token = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(token_pk(&confirm.hash), TOKEN_SK)))
                .build(),
        )?;
        let token_ref = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(
                    user_pk(&user.username),
                    token_ref_sk(&confirm.hash),
                )))
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder().delete(profile).build(),
            TransactWriteItem::builder().delete(token).build(),
            TransactWriteItem::builder().delete(token_ref).build(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            // Someone else's account (or already confirmed): leave it alone.
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(()),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn address_holder(&self, email: &EmailAddress) -> StoreResult<Option<Username>> {
        self.get(key(email_pk(email), EMAIL_SK))
            .await?
            .map(|item| from_item::<EmailItem>(item).map(|e| Username::from_stored(e.username_key)))
            .transpose()
    }

    async fn address_holder_hint(&self, email: &EmailAddress) -> StoreResult<Option<Username>> {
        self.get_eventually(key(email_pk(email), EMAIL_SK))
            .await?
            .map(|item| from_item::<EmailItem>(item).map(|e| Username::from_stored(e.username_key)))
            .transpose()
    }

    async fn get_user(&self, username: &Username) -> StoreResult<Option<UserRecord>> {
        let Some(item) = self.get(key(user_pk(username), PROFILE_SK)).await? else {
            return Ok(None);
        };
        self.unless_deleting(from_item::<UserItem>(item)?).await
    }

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
    ) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(username), session_sk(sid))))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        Ok(conditional("DeleteItem", out)?.is_some())
    }

    async fn put_token(&self, token: &TokenRecord, caps: &[RateCap]) -> StoreResult<WriteOutcome> {
        self.put_token_capped(token, caps).await
    }

    async fn hit_for_account(&self, cap: &RateCap, user: &UserRecord) -> StoreResult<WriteOutcome> {
        self.hit_own_counter(cap, user).await
    }

    async fn get_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: i64,
    ) -> StoreResult<Option<TokenRecord>> {
        let Some(item) = self.get(key(token_pk(hash), TOKEN_SK)).await? else {
            return Ok(None);
        };
        let t: TokenItem = from_item(item)?;
        Ok(t.into_record(hash.clone())
            .filter(|t| t.purpose == purpose && t.expires_at > now))
    }

    async fn confirm_email(&self, hash: &TokenHash, now: i64) -> StoreResult<Confirmation> {
        // Read the token for its owner, then consume it, verify the email
        // and claim the address in one transaction: a failure leaves all
        // three as they were.
        let Some(item) = self.get(key(token_pk(hash), TOKEN_SK)).await? else {
            return Ok(Confirmation::NotFound);
        };
        let token = from_item::<TokenItem>(item)?
            .into_record(hash.clone())
            .filter(|t| t.expires_at > now);
        let token = match token {
            Some(t) if t.purpose == TokenPurpose::Confirm => t,
            Some(t) if t.purpose == TokenPurpose::ChangeEmail => {
                return self.confirm_change(&t, now).await;
            }
            _ => return Ok(Confirmation::NotFound),
        };
        let verify = self.verify_update(&token)?;
        let claim = self.claim_address(&token.username, &token.account_id, &token.email, now)?;
        let writes = vec![TransactWriteItem::builder().update(verify).build(), claim];
        match self
            .consume_token_with(&token, TokenPurpose::Confirm, now, writes)
            .await?
        {
            Ok(()) => Ok(Confirmation::Confirmed),
            Err(failed) if failed.get(..2).is_some_and(|f| f.contains(&true)) => {
                Ok(Confirmation::NotFound)
            }
            Err(_) => Ok(Confirmation::AddressTaken),
        }
    }

    async fn reset_password(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        let username = &token.username;
        // First as a proof of the mailbox: the password, the verified flag
        // and the address claim together.
        let writes = vec![
            TransactWriteItem::builder()
                .update(self.password_update(token, password_hash, true)?)
                .build(),
            self.claim_address(username, &token.account_id, &token.email, now)?,
        ];
        let done = match self
            .consume_token_with(token, TokenPurpose::Reset, now, writes)
            .await?
        {
            Ok(()) => true,
            // The token, or the account (gone, another reset first, or
            // another address now): the link is no longer good.
            Err(failed) if failed.get(..2).is_some_and(|f| f.contains(&true)) => false,
            // Only the address is another account's: the password alone.
            Err(_) => {
                let writes = vec![
                    TransactWriteItem::builder()
                        .update(self.password_update(token, password_hash, false)?)
                        .build(),
                ];
                self.consume_token_with(token, TokenPurpose::Reset, now, writes)
                    .await?
                    .is_ok()
            }
        };
        if !done {
            return Ok(None);
        }
        // The password is changed and old sessions are already dead (their
        // reset epoch is stale); deleting them is cleanup, so a failure here
        // is logged rather than turned into an error after the fact.
        match self.end_sessions(username, true).await {
            Ok(user) => Ok(user),
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "reset: session cleanup failed");
                self.get_user(username).await
            }
        }
    }

    async fn account_data(&self, username: &Username) -> StoreResult<Option<AccountData>> {
        self.partition(username).await
    }

    async fn update_profile(&self, user: &UserRecord) -> StoreResult<Option<UserRecord>> {
        self.write_profile(user).await
    }

    async fn change_password(
        &self,
        user: &UserRecord,
        password_hash: &str,
        keep: &SessionId,
    ) -> StoreResult<bool> {
        self.set_password(user, password_hash, keep).await
    }

    async fn request_email_change(
        &self,
        user: &UserRecord,
        pending: &PendingEmail,
        change: &TokenRecord,
        revert: Option<&TokenRecord>,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        self.record_email_change(user, pending, change, revert, caps)
            .await
    }

    async fn revert_email(
        &self,
        revert: &TokenRecord,
        user: &UserRecord,
        reset: &TokenRecord,
        now: i64,
    ) -> StoreResult<Confirmation> {
        self.restore_email(revert, user, reset, now).await
    }

    async fn resend_confirmation(
        &self,
        user: &UserRecord,
        token: &TokenRecord,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        self.new_confirmation(user, token, caps).await
    }

    async fn forget_login_failures(&self, run: &FailureRun) -> StoreResult<()> {
        self.forget_run(run).await
    }

    async fn end_all_sessions(&self, user: &UserRecord) -> StoreResult<bool> {
        self.end_every_session(user).await
    }

    async fn delete_account(&self, data: &AccountData, current: &SessionId) -> StoreResult<()> {
        self.delete_partition(data, current).await
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
        // item expired or never written) is not brought back.
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
