//! Transaction parts: conditional puts, the token-consuming transaction
//! shared by confirmation and reset, the claim of an address, and the
//! counter update of a rate cap.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, conflicted, sdk_err};
use super::items::{
    COUNTER_CONDITION, COUNTER_UPDATE, EMAIL_SK, EmailItem, Item, LIVE_PROFILE, PROFILE_SK,
    TOKEN_SK, counter_equals, counter_key, counter_values, email_pk, key, live_token_condition, n,
    purpose_value, s, same_account, to_item, token_pk, token_ref_sk, user_pk, with_account,
};
use crate::domain::{AccountId, EmailAddress, RateCap, Username};
use crate::ports::{StoreResult, TokenPurpose, TokenRecord};

/// What a transaction fails with.
pub(super) type TransactError = SdkError<TransactWriteItemsError, HttpResponse>;

impl DynamoStore {
    /// Sends one transaction. DynamoDB cancels a transaction that races
    /// another on the same items with `TransactionConflict`, although neither
    /// may have failed a condition: that one is sent again (three attempts,
    /// a short pause between), so that the loser of a race sees the winner's
    /// writes and gets its real answer. A cancellation with a failed condition
    /// is final and the caller's to judge.
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), TransactError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let out = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match out {
                Ok(_) => return Ok(()),
                Err(err)
                    if attempt < 3
                        && conflicted(&err)
                        && !cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) =>
                {
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    pub(super) fn put(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> StoreResult<TransactWriteItem> {
        let put = build(
            "Put",
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// In one transaction: consume a live token (still owned by its user) and
    /// apply `writes`. `Ok(Err(failed))` when the transaction was cancelled
    /// by failed conditions: `failed[0]` is the token's, then one per write.
    pub(super) async fn consume_token_with(
        &self,
        token: &TokenRecord,
        purpose: TokenPurpose,
        now: i64,
        writes: Vec<TransactWriteItem>,
    ) -> StoreResult<Result<(), Vec<bool>>> {
        let consume = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(token_pk(&token.hash), TOKEN_SK)))
                .condition_expression(format!("{} AND username_key = :k", live_token_condition()))
                .expression_attribute_values(":purpose", purpose_value(purpose))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":k", s(token.username.key()))
                .build(),
        )?;
        // The token's reference in its owner's partition goes with it (last,
        // so that the indices of `writes` stay 1..).
        let consume_ref = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(
                    user_pk(&token.username),
                    token_ref_sk(&token.hash),
                )))
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().delete(consume).build()];
        items.extend(writes);
        items.push(TransactWriteItem::builder().delete(consume_ref).build());
        // Two clicks on one link (or a mail scanner and a person) race: the
        // loser's retry finds the token gone, a 4xx, never a 503.
        match self.transact(items).await {
            Ok(()) => Ok(Ok(())),
            Err(err) => match cancelled_conditions(&err) {
                Some(c) if c.contains(&true) => Ok(Err(c)),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
    }

    /// A transaction's check that `username` is still the account
    /// `account` and that its deletion has not begun.
    pub(super) fn account_check(
        &self,
        username: &Username,
        account: &AccountId,
    ) -> StoreResult<TransactWriteItem> {
        let (ours, account_value) = same_account(account);
        let check = build(
            "ConditionCheck",
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), PROFILE_SK)))
                .condition_expression(format!("{LIVE_PROFILE} AND {ours}"))
                .set_expression_attribute_values(
                    account_value.map(|v| HashMap::from([(":account".to_owned(), v)])),
                )
                .build(),
        )?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Claims `email` for `account` of `username`: only if no account holds
    /// it, or this one already does.
    pub(super) fn claim_address(
        &self,
        username: &Username,
        account: &AccountId,
        email: &EmailAddress,
        now: i64,
    ) -> StoreResult<TransactWriteItem> {
        let (ours, account_value) = same_account(account);
        let item = to_item(&EmailItem {
            pk: email_pk(email),
            sk: EMAIL_SK.into(),
            username_key: username.key().to_owned(),
            created_at: now,
            account_id: account.clone(),
        })?;
        let put = build(
            "Put",
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(format!(
                    "attribute_not_exists(pk) OR (username_key = :k AND {ours})"
                ))
                .set_expression_attribute_values(with_account(
                    HashMap::from([(":k".to_owned(), s(username.key()))]),
                    account_value,
                ))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The update of a confirmation: marks the email verified, only on the
    /// token's account, while its address is still the one mailed and the
    /// token is the latest confirmation link (`confirm_epoch`).
    pub(super) fn verify_update(&self, token: &TokenRecord) -> StoreResult<Update> {
        self.user_update(token, true, None, true)
    }

    /// The update of a reset: the new password and the next reset epoch,
    /// only on the token's account and in the token's epoch; with `verify`,
    /// also the verified flag (as [`DynamoStore::verify_update`]).
    pub(super) fn password_update(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        verify: bool,
    ) -> StoreResult<Update> {
        self.user_update(token, verify, Some(password_hash), false)
    }

    fn user_update(
        &self,
        token: &TokenRecord,
        verify: bool,
        password_hash: Option<&str>,
        latest_link: bool,
    ) -> StoreResult<Update> {
        let (account, account_value) = same_account(&token.account_id);
        let mut sets = Vec::new();
        let mut conditions = vec![LIVE_PROFILE.to_owned(), account.to_owned()];
        let mut values = HashMap::new();
        let mut b = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&token.username), PROFILE_SK)));
        // A link proves only the address it was mailed to: once that is not
        // the account's address any more, the link is void.
        conditions.push("#email = :e".to_owned());
        values.insert(":e".to_owned(), s(token.email.as_str()));
        b = b.expression_attribute_names("#email", "email");
        if verify {
            sets.push("is_email_verified = :t");
            values.insert(":t".to_owned(), AttributeValue::Bool(true));
        }
        if latest_link {
            // Accounts stored before links were resent have no attribute: 0.
            conditions.push(counter_equals("confirm_epoch", ":ce", token.epoch));
            values.insert(":ce".to_owned(), n(token.epoch));
        }
        if let Some(hash) = password_hash {
            sets.push("password_hash = :h");
            sets.push("reset_epoch = :next");
            // Every device is untrusted by a reset (the resetting client
            // gets a token of the new epoch).
            sets.push("device_epoch = if_not_exists(device_epoch, :zero) + :one");
            values.insert(":zero".to_owned(), n(0));
            values.insert(":one".to_owned(), n(1));
            // Users stored before reset epochs existed have none: epoch 0.
            conditions.push(counter_equals("reset_epoch", ":epoch", token.epoch));
            values.insert(":h".to_owned(), s(hash));
            values.insert(":epoch".to_owned(), n(token.epoch));
            values.insert(":next".to_owned(), n(token.epoch + 1));
        }
        build(
            "Update",
            // A new password also cancels a pending change of address (an
            // intruder's, say): the change link stops working.
            b.update_expression(if password_hash.is_some() {
                format!("SET {} REMOVE pending_email", sets.join(", "))
            } else {
                format!("SET {}", sets.join(", "))
            })
            .condition_expression(conditions.join(" AND "))
            .set_expression_attribute_values(with_account(values, account_value))
            .build(),
        )
    }

    pub(super) fn counter_update(&self, cap: &RateCap) -> StoreResult<Update> {
        build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(counter_key(cap)))
                .update_expression(COUNTER_UPDATE)
                .condition_expression(COUNTER_CONDITION)
                .set_expression_attribute_values(Some(counter_values(cap)))
                .build(),
        )
    }
}
