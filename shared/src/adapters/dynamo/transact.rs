//! Transaction parts: conditional puts, the token-consuming transaction
//! shared by confirmation and reset, and the counter update of a rate cap.

use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, conflicted, sdk_err};
use super::items::{
    COUNTER_CONDITION, COUNTER_UPDATE, Item, TOKEN_SK, counter_key, counter_values, key,
    live_token_condition, n, purpose_value, s, token_pk,
};
use crate::domain::RateCap;
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
    /// apply `update` to that user. `false` when either condition failed,
    /// including a token of another purpose.
    pub(super) async fn consume_token_and_update(
        &self,
        token: &TokenRecord,
        purpose: TokenPurpose,
        now: i64,
        update: Update,
    ) -> StoreResult<bool> {
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
        let out = self
            .transact(vec![
                TransactWriteItem::builder().delete(consume).build(),
                TransactWriteItem::builder().update(update).build(),
            ])
            .await;
        // Two clicks on one link (or a mail scanner and a person) race: the
        // loser's retry finds the token gone, a 4xx, never a 503.
        match out {
            Ok(_) => Ok(true),
            Err(err) => match cancelled_conditions(&err) {
                Some(c) if c.contains(&true) => Ok(false),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
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
