//! Transaction parts: conditional puts, the token-consuming transaction
//! shared by confirmation and reset, and the counter update of a rate cap.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, sdk_err};
use super::items::{
    COUNTER_CONDITION, COUNTER_UPDATE, Item, TOKEN_SK, counter_key, counter_values, key,
    live_token_condition, n, purpose_value, s, token_pk,
};
use crate::domain::RateCap;
use crate::ports::{StoreResult, TokenPurpose, TokenRecord};

impl DynamoStore {
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
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(consume).build())
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await;
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
