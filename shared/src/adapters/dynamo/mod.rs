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
mod email_change;
mod errors;
mod items;
mod sessions;
mod table;
mod transact;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use self::errors::{build, cancelled_conditions, conditional, sdk_err};
use self::items::{
    COUNTER_CONDITION, COUNTER_UPDATE, EMAIL_SK, EmailItem, FAILURES_SK, FailuresItem,
    LIVE_PROFILE, PROFILE_SK, TOKEN_SK, TokenItem, UserItem, counter_equals, counter_key,
    counter_values, email_pk, from_item, key, n, run_pk, s, same_account, session_sk, to_item,
    token_item, token_pk, token_ref_item, token_ref_sk, user_pk, with_account,
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

impl DynamoStore {
    /// The profile's user, unless a deletion marked it: then the account is
    /// gone, and its deletion is finished here (a deletion that failed
    /// after its mark, whose session then ended, would otherwise leave the
    /// username and the address held for ever). Deleting is idempotent, so
    /// finishing one still under way does no harm.
    async fn unless_deleting(&self, item: UserItem) -> StoreResult<Option<UserRecord>> {
        if item.deleting != Some(true) {
            return Ok(Some(item.user));
        }
        if let Some(data) = self.partition(&item.user.username).await? {
            let none = SessionId::from_stored(String::new());
            self.delete_partition(&data, &none).await?;
        }
        Ok(None)
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
        let username_run = run_pk(&FailureRun::Username(username.clone()));
        let device_run = device.map(|d| run_pk(&FailureRun::Device(d.clone())));
        let mut keys = vec![
            key(user_pk(username), PROFILE_SK),
            key(username_run.clone(), FAILURES_SK),
        ];
        keys.extend(device_run.clone().map(|pk| key(pk, FAILURES_SK)));
        let mut state = LoginState::default();
        for item in self.batch_get(keys).await? {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned();
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            if sk.as_deref() == Some(PROFILE_SK) {
                state.user = self.unless_deleting(from_item::<UserItem>(item)?).await?;
                continue;
            }
            let f: FailuresItem = from_item(item)?;
            if f.expires_at <= now {
                continue;
            }
            let run = LoginFailures {
                count: f.n,
                last_at: f.last_at,
            };
            if pk.as_ref() == Some(&username_run) {
                state.failures = run;
            } else if pk.is_some() && pk == device_run {
                state.device_failures = run;
            }
        }
        Ok(state)
    }

    async fn claim_login_attempt(
        &self,
        run: &FailureRun,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
        attempt: &SessionId,
    ) -> StoreResult<bool> {
        // Compare-and-set on the run as login_state saw it: a missing or
        // expired run (TTL deletes late) counts as zero.
        let unchanged = if seen.count == 0 {
            "attribute_not_exists(pk) OR expires_at <= :now"
        } else {
            "n = :n AND last_at = :last AND expires_at > :now"
        };
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(run), FAILURES_SK)))
            .update_expression("SET n = :next, last_at = :now, expires_at = :exp, claim = :claim")
            .condition_expression(unchanged)
            .set_expression_attribute_values(Some(if seen.count == 0 {
                HashMap::from([
                    (":next".to_owned(), n(1)),
                    (":now".to_owned(), n(now)),
                    (":exp".to_owned(), n(expires_at)),
                    (":claim".to_owned(), s(attempt.as_str())),
                ])
            } else {
                HashMap::from([
                    (":n".to_owned(), n(seen.count)),
                    (":last".to_owned(), n(seen.last_at)),
                    (":next".to_owned(), n(seen.count.saturating_add(1))),
                    (":now".to_owned(), n(now)),
                    (":exp".to_owned(), n(expires_at)),
                    (":claim".to_owned(), s(attempt.as_str())),
                ])
            }))
            // If the SDK retried this write (a timeout after DynamoDB applied
            // it), the retry fails the condition: the item then names which
            // attempt claimed it, ours or a rival's.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(true),
            Err(err) => {
                let claimed_by = match err.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(e)) => e
                        .item()
                        .and_then(|item| item.get("claim"))
                        .and_then(|v| v.as_s().ok())
                        .cloned(),
                    _ => return Err(sdk_err("UpdateItem", err)),
                };
                Ok(claimed_by.as_deref() == Some(attempt.as_str()))
            }
        }
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
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(username), session_sk(sid))))
            .update_expression("SET pwd_failures = :next")
            .condition_expression(format!(
                "attribute_exists(pk) AND expires_at > :now AND {}",
                counter_equals("pwd_failures", ":seen", u64::from(seen))
            ))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":seen", n(seen))
            .expression_attribute_values(":next", n(seen.saturating_add(1)))
            .send()
            .await;
        Ok(conditional("UpdateItem", out)?.is_some())
    }

    async fn clear_password_failures(
        &self,
        username: &Username,
        sid: &SessionId,
    ) -> StoreResult<()> {
        // Never writes a session back that has ended meanwhile.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(username), session_sk(sid))))
            .update_expression("SET pwd_failures = :zero")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        conditional("UpdateItem", out)?;
        Ok(())
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
        let mut items = Vec::with_capacity(caps.len() + 3);
        for cap in caps {
            items.push(
                TransactWriteItem::builder()
                    .update(self.counter_update(cap)?)
                    .build(),
            );
        }
        // Only while the account exists: a link written for an account whose
        // deletion began would outlive it (with the address it went to).
        items.push(self.account_check(&token.username, &token.account_id)?);
        items.push(self.put(token_item(token)?, Some("attribute_not_exists(pk)"))?);
        items.push(self.put(token_ref_item(token)?, None)?);
        // Counters are shared (an address's cap): a conflict is tried again.
        match self.transact(items).await {
            Ok(()) => Ok(WriteOutcome::Done),
            Err(err) => match cancelled_conditions(&err) {
                // A gone account first, as the memory store answers.
                Some(c) if c.get(caps.len()) == Some(&true) => Ok(WriteOutcome::Stale),
                Some(c) if c.iter().take(caps.len()).any(|f| *f) => Ok(WriteOutcome::Capped),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
    }

    async fn hit_for_account(&self, cap: &RateCap, user: &UserRecord) -> StoreResult<WriteOutcome> {
        let items = vec![
            TransactWriteItem::builder()
                .update(self.counter_update(cap)?)
                .build(),
            self.account_check(&user.username, &user.account_id)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(WriteOutcome::Done),
            Err(err) => match cancelled_conditions(&err).as_deref() {
                Some([_, true, ..]) => Ok(WriteOutcome::Stale),
                Some([true, ..]) => Ok(WriteOutcome::Capped),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
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
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(run_pk(run), FAILURES_SK)))
            .send()
            .await
            .map_err(|e| sdk_err("DeleteItem", e))?;
        Ok(())
    }

    async fn end_all_sessions(&self, user: &UserRecord) -> StoreResult<bool> {
        // The next session epoch ends every session at once, also one that
        // a racing login writes after this (its epoch is stale from birth).
        let (account, account_value) = same_account(&user.account_id);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
            .update_expression("SET session_epoch = if_not_exists(session_epoch, :zero) + :one")
            .condition_expression(format!("{LIVE_PROFILE} AND {account}"))
            .set_expression_attribute_values(with_account(
                HashMap::from([(":zero".to_owned(), n(0)), (":one".to_owned(), n(1))]),
                account_value,
            ))
            .send()
            .await;
        if conditional("UpdateItem", out)?.is_none() {
            return Ok(false);
        }
        // The sessions are dead already; deleting them is cleanup.
        if let Err(err) = self.end_sessions(&user.username, false).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "logout_all: session cleanup failed"
            );
        }
        Ok(true)
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
}
