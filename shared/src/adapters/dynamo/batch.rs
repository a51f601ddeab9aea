//! Multi-item reads and writes: consistent GetItem, BatchGetItem and
//! BatchWriteItem with their unprocessed keys retried, and the query over a
//! user's partition.

use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, WriteRequest};

use super::DynamoStore;
use super::errors::{build, sdk_err};
use super::items::{
    FAILURES_SK, Item, PROFILE_SK, UserItem, failures_pk, from_item, key, s, user_pk,
};
use crate::domain::Username;
use crate::ports::{StoreError, StoreResult, UserRecord};

impl DynamoStore {
    /// One item by key, strongly consistent.
    pub(super) async fn get(&self, item_key: Item) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", e))?;
        Ok(out.item)
    }

    /// One item by key, eventually consistent (half the read units; a
    /// write of the last second may not show): only where the answer
    /// decides no access.
    pub(super) async fn get_eventually(&self, item_key: Item) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", e))?;
        Ok(out.item)
    }

    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut pending = Some(build(
            "KeysAndAttributes",
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build(),
        )?);
        let mut found = Vec::new();
        for attempt in 0..4u32 {
            let Some(request) = pending.take() else { break };
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| sdk_err("BatchGetItem", e))?;
            if let Some(mut responses) = out.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys().is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "DynamoDB BatchGetItem: keys left unprocessed"
            )));
        }
        Ok(found)
    }

    pub(super) async fn batch_delete(&self, keys: Vec<Item>) -> StoreResult<()> {
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|k| {
                    build(
                        "DeleteRequest",
                        DeleteRequest::builder().set_key(Some(k.clone())).build(),
                    )
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<StoreResult<Vec<_>>>()?;
            for attempt in 0..5u32 {
                if requests.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut requests))
                    .send()
                    .await
                    .map_err(|e| sdk_err("BatchWriteItem", e))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
            }
            if !requests.is_empty() {
                return Err(StoreError::Unavailable(anyhow::anyhow!(
                    "DynamoDB BatchWriteItem: items left unprocessed"
                )));
            }
        }
        Ok(())
    }

    /// (created_at, sort key) of each session of a user, read by one query
    /// (paginated) that fetches only those two attributes.
    pub(super) async fn session_ages(
        &self,
        username: &Username,
    ) -> StoreResult<Vec<(i64, String)>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :session)")
            .expression_attribute_values(":pk", s(user_pk(username)))
            .expression_attribute_values(":session", s("SESSION#"))
            .projection_expression("sk, created_at")
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut ages = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| sdk_err("Query", e))?;
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            let at = item
                .get("created_at")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok());
            if let (Some(sk), Some(at)) = (sk, at) {
                ages.push((at, sk));
            }
        }
        Ok(ages)
    }

    /// Deletes every session of a user, and with `clear_failures` the
    /// failed-login run; returns the profile, read by the same query.
    pub(super) async fn end_sessions(
        &self,
        username: &Username,
        clear_failures: bool,
    ) -> StoreResult<Option<UserRecord>> {
        let mut user = None;
        let mut doomed = Vec::new();
        if clear_failures {
            doomed.push(key(failures_pk(username), FAILURES_SK));
        }
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            // Past the activity, which sorts first (and can be long).
            .key_condition_expression("pk = :pk AND sk > :after")
            .expression_attribute_values(":pk", s(user_pk(username)))
            .expression_attribute_values(":after", s(super::trail::AFTER_ACTIVITY))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| sdk_err("Query", e))?;
            let sk = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if sk == PROFILE_SK {
                user = Some(from_item::<UserItem>(item)?.user);
            } else if sk.starts_with("SESSION#") {
                doomed.push(key(user_pk(username), sk));
            }
        }
        self.batch_delete(doomed).await?;
        Ok(user)
    }
}
