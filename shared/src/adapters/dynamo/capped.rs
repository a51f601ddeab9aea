//! Writes made for an account under conditions of their own: a link under
//! its caps, an account's own counter, and "sign out everywhere"; each only
//! while the account is live (`LIVE_PROFILE`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, sdk_err};
use super::items::{
    LIVE_PROFILE, PROFILE_SK, key, n, same_account, token_item, token_ref_item, user_pk,
    with_account,
};
use crate::domain::RateCap;
use crate::domain::activity::ActivityKind;
use crate::ports::{StoreResult, TokenRecord, UserRecord, WriteOutcome};

impl DynamoStore {
    pub(super) async fn put_token_capped(
        &self,
        token: &TokenRecord,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
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

    pub(super) async fn hit_own_counter(
        &self,
        cap: &RateCap,
        user: &UserRecord,
    ) -> StoreResult<WriteOutcome> {
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

    pub(super) async fn end_every_session(&self, user: &UserRecord) -> StoreResult<bool> {
        // The next session epoch ends every session at once, also one that
        // a racing login writes after this (its epoch is stale from birth).
        let (account, account_value) = same_account(&user.account_id);
        let epoch = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .update_expression("SET session_epoch = if_not_exists(session_epoch, :zero) + :one")
                .condition_expression(format!("{LIVE_PROFILE} AND {account}"))
                .set_expression_attribute_values(with_account(
                    HashMap::from([(":zero".to_owned(), n(0)), (":one".to_owned(), n(1))]),
                    account_value,
                ))
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().update(epoch).build()];
        items.extend(self.trail_items(user, Some(ActivityKind::SessionEnded), None)?);
        match self.transact(items).await {
            Ok(()) => {}
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => {
                return Ok(false);
            }
            Err(err) => return Err(sdk_err("TransactWriteItems", err)),
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
}
