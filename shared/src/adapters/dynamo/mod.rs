//! The DynamoDB adapter: one table, `pk`/`sk` string keys, `expires_at` TTL.
//!
//! | pk | sk | item |
//! |---|---|---|
//! | `USER#<username key>` | `PROFILE` | the user |
//! | `USER#<username key>` | `SESSION#<sid>` | one session |
//! | `EMAIL#<email key>` | `EMAIL` | uniqueness guard |
//! | `TOKEN#<sha256>` | `TOKEN` | one-time token |
//! | `RATE#login#<username key>` | `FAILS` | failed-login run |
//! | `RATE#<scope>#<key>` | `<window start>` | fixed-window counter |
//!
//! Expiry is always checked in code too: TTL deletes late (up to days).

mod batch;
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
    AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use self::errors::{build, cancelled_conditions, conditional, sdk_err};
use self::items::{
    COUNTER_CONDITION, COUNTER_UPDATE, EMAIL_SK, EmailItem, FAILURES_SK, FailuresItem, Item,
    PROFILE_SK, TOKEN_SK, TokenItem, UserItem, counter_key, counter_values, email_pk, failures_pk,
    from_item, key, n, s, same_account, session_sk, to_item, token_item, token_pk, user_pk,
    with_account,
};
use crate::domain::{LoginFailures, RateCap, SessionId, TokenHash, Username};
use crate::ports::{
    CreateUserError, SessionRecord, StoreResult, TokenPurpose, TokenRecord, UserRecord, UserStore,
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
                })?,
                new,
            )?,
            self.put(
                to_item(&EmailItem {
                    pk: email_pk(&user.email),
                    sk: EMAIL_SK.into(),
                    username_key: user.username.key().to_owned(),
                    created_at: user.created_at,
                })?,
                new,
            )?,
            self.put(token_item(confirm)?, new)?,
        ];
        // Two registrations racing for one name or address can make DynamoDB
        // cancel one with TransactionConflict: `transact` tries again, and the
        // loser then sees the winner's item (409 or notice).
        let Err(err) = self.transact(items).await else {
            return Ok(());
        };
        match cancelled_conditions(&err).as_deref() {
            Some([true, ..]) => Err(CreateUserError::UsernameTaken),
            Some([false, true, ..]) => Err(CreateUserError::EmailTaken),
            _ => Err(sdk_err("TransactWriteItems", err).into()),
        }
    }

    async fn delete_unverified_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> StoreResult<()> {
        let delete = |k: Item, condition: Option<&str>, values: Vec<(&str, AttributeValue)>| {
            let mut b = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(k))
                .set_condition_expression(condition.map(str::to_owned));
            for (name, value) in values {
                b = b.expression_attribute_values(name, value);
            }
            build("Delete", b.build()).map(|d| TransactWriteItem::builder().delete(d).build())
        };
        let items = vec![
            delete(
                key(user_pk(&user.username), PROFILE_SK),
                Some("is_email_verified = :f AND created_at = :c"),
                vec![
                    (":f", AttributeValue::Bool(false)),
                    (":c", n(user.created_at)),
                ],
            )?,
            delete(
                key(email_pk(&user.email), EMAIL_SK),
                Some("username_key = :k"),
                vec![(":k", s(user.username.key()))],
            )?,
            delete(key(token_pk(&confirm.hash), TOKEN_SK), None, vec![])?,
        ];
        let err = match self.transact(items.clone()).await {
            Ok(()) => return Ok(()),
            Err(err) => err,
        };
        match cancelled_conditions(&err).as_deref() {
            // The address's guard is someone else's: remove the account and
            // its token, leave the guard to its owner (as the memory store does).
            Some([false, true, ..]) => {
                let ours = vec![items[0].clone(), items[2].clone()];
                match self.transact(ours).await {
                    Ok(()) => Ok(()),
                    Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => {
                        Ok(())
                    }
                    Err(err) => Err(sdk_err("TransactWriteItems", err)),
                }
            }
            // Someone else's account (or already confirmed): leave it alone.
            Some(c) if c.contains(&true) => Ok(()),
            _ => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn get_user(&self, username: &Username) -> StoreResult<Option<UserRecord>> {
        self.get(key(user_pk(username), PROFILE_SK))
            .await?
            .map(|item| from_item::<UserItem>(item).map(|u| u.user))
            .transpose()
    }

    async fn login_state(
        &self,
        username: &Username,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, LoginFailures)> {
        let items = self
            .batch_get(vec![
                key(user_pk(username), PROFILE_SK),
                key(failures_pk(username), FAILURES_SK),
            ])
            .await?;
        let mut user = None;
        let mut failures = LoginFailures::default();
        for item in items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            match sk.as_deref() {
                Some(PROFILE_SK) => user = Some(from_item::<UserItem>(item)?.user),
                Some(FAILURES_SK) => {
                    let f: FailuresItem = from_item(item)?;
                    if f.expires_at > now {
                        failures = LoginFailures {
                            count: f.n,
                            last_at: f.last_at,
                        };
                    }
                }
                _ => {}
            }
        }
        Ok((user, failures))
    }

    async fn claim_login_attempt(
        &self,
        username: &Username,
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
            .set_key(Some(key(failures_pk(username), FAILURES_SK)))
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
        clear_failures: bool,
    ) -> StoreResult<bool> {
        self.put_session(session, clear_failures).await
    }

    async fn end_sessions_beyond(
        &self,
        username: &Username,
        keep: usize,
        current: &SessionId,
    ) -> StoreResult<usize> {
        self.trim_sessions(username, keep, current).await
    }

    async fn session_user(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        self.live_session_user(username, sid, now).await
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

    async fn put_token(&self, token: &TokenRecord, cap: Option<&RateCap>) -> StoreResult<bool> {
        let item = token_item(token)?;
        let Some(cap) = cap else {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map_err(|e| sdk_err("PutItem", e))?;
            return Ok(true);
        };
        let out = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(self.counter_update(cap)?)
                    .build(),
            )
            .transact_items(self.put(item, Some("attribute_not_exists(pk)"))?)
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(err) => match cancelled_conditions(&err).as_deref() {
                Some([true, ..]) => Ok(false),
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
        Ok(
            (t.purpose == purpose && t.expires_at > now).then(|| TokenRecord {
                hash: hash.clone(),
                purpose: t.purpose,
                username: Username::from_stored(t.username_key),
                account_id: t.account_id,
                expires_at: t.expires_at,
                epoch: t.epoch,
            }),
        )
    }

    async fn confirm_email(&self, hash: &TokenHash, now: i64) -> StoreResult<bool> {
        // Read the token for its owner, then consume it and verify the email
        // in one transaction: a failure leaves both as they were.
        let Some(token) = self.get_token(hash, TokenPurpose::Confirm, now).await? else {
            return Ok(false);
        };
        let (account, account_value) = same_account(&token.account_id);
        let verify = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&token.username), PROFILE_SK)))
                .update_expression("SET is_email_verified = :t")
                .condition_expression(format!("attribute_exists(pk) AND {account}"))
                .set_expression_attribute_values(with_account(
                    HashMap::from([(":t".to_owned(), AttributeValue::Bool(true))]),
                    account_value,
                ))
                .build(),
        )?;
        self.consume_token_and_update(&token, TokenPurpose::Confirm, now, verify)
            .await
    }

    async fn reset_password(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        let username = &token.username;
        let (account, account_value) = same_account(&token.account_id);
        // Users stored before reset epochs existed have no attribute: epoch 0.
        let same_epoch = if token.epoch == 0 {
            "(attribute_not_exists(reset_epoch) OR reset_epoch = :e)"
        } else {
            "reset_epoch = :e"
        };
        let update = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), PROFILE_SK)))
                .update_expression(
                    "SET password_hash = :h, is_email_verified = :t, reset_epoch = :next",
                )
                .condition_expression(format!(
                    "attribute_exists(pk) AND {same_epoch} AND {account}"
                ))
                .set_expression_attribute_values(with_account(
                    HashMap::from([
                        (":h".to_owned(), s(password_hash)),
                        (":t".to_owned(), AttributeValue::Bool(true)),
                        (":e".to_owned(), n(token.epoch)),
                        (":next".to_owned(), n(token.epoch + 1)),
                    ]),
                    account_value,
                ))
                .build(),
        )?;
        if !self
            .consume_token_and_update(token, TokenPurpose::Reset, now, update)
            .await?
        {
            return Ok(None);
        }
        // The password is changed and old sessions are already dead (their
        // reset epoch is stale); deleting them is cleanup, so a failure here
        // is logged rather than turned into an error after the fact.
        match self.end_sessions(username).await {
            Ok(user) => Ok(user),
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "reset: session cleanup failed");
                self.get_user(username).await
            }
        }
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
