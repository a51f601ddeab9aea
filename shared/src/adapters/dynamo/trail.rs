//! The trail items a change writes in its own transaction: the account's
//! security activity (`USER#<key>` / `ACTIVITY#<id>`, kept
//! `ACTIVITY_TTL_SECS`) and the outbox item the table's stream carries to
//! the forwarder (`OUTBOX#<id>` / `OUTBOX`, kept a day); and the reads of
//! the activity.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::errors::{cancelled_conditions, sdk_err};
use super::items::{Item, from_item, s, to_item, user_pk};
use crate::domain::activity::{ActivityKind, EventKind};
use crate::domain::{AccountId, Username};
use crate::ports::{ActivityRecord, OutboxEvent, StoreResult, Trail, UserRecord};

/// The sort-key prefix of activity items.
pub(super) const ACTIVITY_PREFIX: &str = "ACTIVITY#";
/// Sorts after every activity item and before every other item of a
/// user's partition (`#` < `$` < `MFA#`, `PASSKEY#`, `PROFILE`, ...): a
/// partition read that starts after it skips the activity.
pub(super) const AFTER_ACTIVITY: &str = "ACTIVITY$";
/// The partition-key prefix of outbox items (the stream's filter).
pub const OUTBOX_PREFIX: &str = "OUTBOX#";

#[derive(Serialize, Deserialize)]
pub(super) struct ActivityItem {
    pk: String,
    sk: String,
    /// The account it is about, when the writer knew it (a sign-out
    /// knows the username alone; its check of the profile keeps it from
    /// landing in a deleted account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    kind: ActivityKind,
    at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new_device: Option<bool>,
    expires_at: i64,
}

/// An outbox item, as the forwarder reads it from the stream.
#[derive(Serialize, Deserialize)]
pub(super) struct OutboxItem {
    pk: String,
    sk: String,
    id: String,
    detail_type: EventKind,
    account_id: String,
    username: String,
    at: i64,
    expires_at: i64,
}

impl DynamoStore {
    /// The Put of `activity` in `username`'s partition (its sort key is
    /// unique: no condition needed).
    pub(super) fn activity_put(
        &self,
        username: &Username,
        account: Option<&AccountId>,
        activity: &ActivityRecord,
    ) -> StoreResult<TransactWriteItem> {
        self.put(
            to_item(&ActivityItem {
                pk: user_pk(username),
                sk: format!("{ACTIVITY_PREFIX}{}", activity.id),
                account_id: account.map(|a| a.as_str().to_owned()),
                kind: activity.kind,
                at: activity.at,
                ip: activity.ip.clone(),
                device: activity.device.clone(),
                new_device: activity.new_device,
                expires_at: activity.expires_at,
            })?,
            None,
        )
    }

    /// The Put of an outbox item.
    pub(super) fn outbox_put(&self, event: &OutboxEvent) -> StoreResult<TransactWriteItem> {
        self.put(
            to_item(&OutboxItem {
                pk: format!("{OUTBOX_PREFIX}{}", event.id),
                sk: "OUTBOX".into(),
                id: event.id.clone(),
                detail_type: event.kind,
                account_id: event.account_id.as_str().to_owned(),
                username: event.username.clone(),
                at: event.at,
                expires_at: event.expires_at(),
            })?,
            None,
        )
    }

    /// The trail of a change to `user`'s account, stamped with the current
    /// request: its activity item (`kind`) and its outbox item (`event`),
    /// appended to the change's own transaction (last, so that the indices
    /// of the change's conditions stay as they were).
    pub(super) fn trail_items(
        &self,
        user: &UserRecord,
        kind: Option<ActivityKind>,
        event: Option<EventKind>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        self.trail_of(&user.username, &user.account_id, kind, event)
    }

    /// [`Self::trail_items`] by the account's username and id.
    pub(super) fn trail_of(
        &self,
        username: &Username,
        account: &AccountId,
        kind: Option<ActivityKind>,
        event: Option<EventKind>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let trail = Trail::current();
        let mut items = Vec::with_capacity(2);
        if let Some(kind) = kind {
            items.push(self.activity_put(username, Some(account), &trail.activity(kind))?);
        }
        if let Some(event) = event {
            items.push(self.outbox_put(&trail.event(event, username, account))?);
        }
        Ok(items)
    }

    /// [`crate::ports::AccountStore::note_activity`]: the check and the Put.
    pub(super) async fn note(
        &self,
        user: &UserRecord,
        activity: &ActivityRecord,
    ) -> StoreResult<bool> {
        let items = vec![
            self.account_check(&user.username, &user.account_id)?,
            self.activity_put(&user.username, Some(&user.account_id), activity)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    /// [`crate::ports::AccountStore::security_events`]: newest first, one
    /// consistent query per page of DynamoDB's; TTL deletes late, so the
    /// first expired item (the rest are older) ends the list.
    pub(super) async fn activity(
        &self,
        username: &Username,
        now: i64,
        before: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ActivityRecord>> {
        // BETWEEN is inclusive: the item named by the cursor is skipped below.
        let upper = before.map_or_else(
            || AFTER_ACTIVITY.to_owned(),
            |id| format!("{ACTIVITY_PREFIX}{id}"),
        );
        let page = i32::try_from(limit.saturating_add(1).min(1000)).unwrap_or(1000);
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(user_pk(username)))
            .expression_attribute_values(":lo", s(ACTIVITY_PREFIX))
            .expression_attribute_values(":hi", s(upper.clone()))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(page)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(item) = pages.next().await else {
                break;
            };
            let item: ActivityItem = from_item(item.map_err(|e| sdk_err("Query", e))?)?;
            if item.sk == upper {
                continue;
            }
            if item.expires_at <= now {
                break;
            }
            let id = item
                .sk
                .strip_prefix(ACTIVITY_PREFIX)
                .unwrap_or_default()
                .to_owned();
            out.push(ActivityRecord {
                kind: item.kind,
                at: item.at,
                ip: item.ip,
                device: item.device,
                new_device: item.new_device,
                expires_at: item.expires_at,
                id,
            });
        }
        Ok(out)
    }

    /// The keys of every activity item of `username` (for a deletion).
    pub(super) async fn activity_keys(&self, username: &Username) -> StoreResult<Vec<Item>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :a)")
            .expression_attribute_values(":pk", s(user_pk(username)))
            .expression_attribute_values(":a", s(ACTIVITY_PREFIX))
            .projection_expression("pk, sk")
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut keys = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| sdk_err("Query", e))?;
            if let (Some(pk), Some(sk)) = (item.get("pk"), item.get("sk")) {
                keys.push(HashMap::from([
                    ("pk".to_owned(), pk.clone()),
                    ("sk".to_owned(), sk.clone()),
                ]));
            }
        }
        Ok(keys)
    }
}
