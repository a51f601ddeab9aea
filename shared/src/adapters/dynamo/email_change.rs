//! Changing an address: the pending change and its two links, confirming
//! it, reverting it; and resending a registration's confirmation link.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, sdk_err};
use super::items::{
    EMAIL_SK, FAILURES_SK, LIVE_PROFILE, PROFILE_SK, counter_equals, email_pk, failures_pk,
    from_item, key, n, s, same_account, token_item, token_ref_item, user_pk, with_account,
};
use crate::domain::activity::{ActivityKind, EventKind};
use crate::domain::{RateCap, Username};
use crate::ports::{
    Confirmation, PendingEmail, StoreError, StoreResult, TokenPurpose, TokenRecord, UserRecord,
    WriteOutcome,
};

impl DynamoStore {
    /// In one transaction: count `caps`, apply `update` to the user (whose
    /// condition says the account is as read), store `tokens` with their
    /// references.
    async fn guarded_write(
        &self,
        caps: &[RateCap],
        update: Update,
        tokens: &[&TokenRecord],
        trail: Vec<TransactWriteItem>,
    ) -> StoreResult<WriteOutcome> {
        let mut items = Vec::new();
        for cap in caps {
            items.push(
                TransactWriteItem::builder()
                    .update(self.counter_update(cap)?)
                    .build(),
            );
        }
        items.push(TransactWriteItem::builder().update(update).build());
        for token in tokens {
            items.push(self.put(token_item(token)?, Some("attribute_not_exists(pk)"))?);
            items.push(self.put(token_ref_item(token)?, None)?);
        }
        items.extend(trail);
        match self.transact(items).await {
            Ok(()) => Ok(WriteOutcome::Done),
            Err(err) => match cancelled_conditions(&err) {
                Some(c) if c.get(caps.len()) == Some(&true) => Ok(WriteOutcome::Stale),
                Some(c) if c.iter().take(caps.len()).any(|f| *f) => Ok(WriteOutcome::Capped),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
    }

    /// The user update condition "this account, with this address".
    fn user_as_read(&self, user: &UserRecord) -> (String, HashMap<String, AttributeValue>) {
        let (account, account_value) = same_account(&user.account_id);
        let mut values = HashMap::from([(":cur".to_owned(), s(user.email.as_str()))]);
        if let Some(v) = account_value {
            values.insert(":account".to_owned(), v);
        }
        (
            format!("{LIVE_PROFILE} AND {account} AND #email = :cur"),
            values,
        )
    }

    pub(super) async fn record_email_change(
        &self,
        user: &UserRecord,
        pending: &PendingEmail,
        change: &TokenRecord,
        revert: Option<&TokenRecord>,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        let (condition, mut values) = self.user_as_read(user);
        let pending = serde_dynamo::to_attribute_value(pending)
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("encode pending change: {e}")))?;
        values.insert(":p".to_owned(), pending);
        values.insert(":changes".to_owned(), n(user.email_changes));
        values.insert(":next".to_owned(), n(user.email_changes + 1));
        let changes = counter_equals("email_changes", ":changes", user.email_changes);
        let update = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .update_expression("SET pending_email = :p, email_changes = :next")
                .condition_expression(format!("{condition} AND {changes}"))
                .expression_attribute_names("#email", "email")
                .set_expression_attribute_values(Some(values))
                .build(),
        )?;
        let mut tokens = vec![change];
        tokens.extend(revert);
        let trail = self.trail_items(user, Some(ActivityKind::EmailChangeRequested), None)?;
        self.guarded_write(caps, update, &tokens, trail).await
    }

    pub(super) async fn new_confirmation(
        &self,
        user: &UserRecord,
        token: &TokenRecord,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        let (condition, mut values) = self.user_as_read(user);
        let epoch = counter_equals("confirm_epoch", ":ce", user.confirm_epoch);
        values.insert(":ce".to_owned(), n(user.confirm_epoch));
        values.insert(":next".to_owned(), n(token.epoch));
        values.insert(":f".to_owned(), AttributeValue::Bool(false));
        let update = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .update_expression("SET confirm_epoch = :next")
                .condition_expression(format!(
                    "{condition} AND is_email_verified = :f AND {epoch}"
                ))
                .expression_attribute_names("#email", "email")
                .set_expression_attribute_values(Some(values))
                .build(),
        )?;
        self.guarded_write(caps, update, &[token], Vec::new()).await
    }

    /// The user a token names, if it is still the token's account.
    async fn token_owner(&self, token: &TokenRecord) -> StoreResult<Option<UserRecord>> {
        Ok(self
            .get_user_item(&token.username)
            .await?
            .filter(|u| u.account_id == token.account_id))
    }

    async fn get_user_item(&self, username: &Username) -> StoreResult<Option<UserRecord>> {
        self.get(key(user_pk(username), PROFILE_SK))
            .await?
            .map(|item| from_item::<super::items::UserItem>(item).map(|u| u.user))
            .transpose()
    }

    /// In a transaction that moves `user` to another address: drops its
    /// claim on its current one, if it has one (a verified address), unless
    /// another account holds it (then the transaction is cancelled).
    fn release_address(&self, user: &UserRecord) -> StoreResult<Option<TransactWriteItem>> {
        if !user.is_email_verified {
            return Ok(None);
        }
        let delete = build(
            "Delete",
            aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(email_pk(&user.email), EMAIL_SK)))
                .condition_expression("attribute_not_exists(pk) OR username_key = :k")
                .expression_attribute_values(":k", s(user.username.key()))
                .build(),
        )?;
        Ok(Some(TransactWriteItem::builder().delete(delete).build()))
    }

    pub(super) async fn confirm_change(
        &self,
        token: &TokenRecord,
        now: i64,
    ) -> StoreResult<Confirmation> {
        let Some(user) = self.token_owner(token).await? else {
            return Ok(Confirmation::NotFound);
        };
        let (condition, mut values) = self.user_as_read(&user);
        values.insert(":new".to_owned(), s(token.email.as_str()));
        values.insert(":t".to_owned(), AttributeValue::Bool(true));
        let update = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .update_expression("SET #email = :new, is_email_verified = :t REMOVE pending_email")
                .condition_expression(format!("{condition} AND #pe.#email = :new"))
                .expression_attribute_names("#email", "email")
                .expression_attribute_names("#pe", "pending_email")
                .set_expression_attribute_values(Some(values))
                .build(),
        )?;
        let claim = self.claim_address(&user.username, &user.account_id, &token.email, now)?;
        let mut writes = vec![TransactWriteItem::builder().update(update).build(), claim];
        if user.email != token.email {
            writes.extend(self.release_address(&user)?);
        }
        writes.extend(self.trail_items(
            &user,
            Some(ActivityKind::EmailConfirmed),
            Some(EventKind::EmailChanged),
        )?);
        match self
            .consume_token_with(token, TokenPurpose::ChangeEmail, now, writes)
            .await?
        {
            Ok(()) => Ok(Confirmation::Confirmed),
            // Only the new address failed: another account holds it.
            Err(failed) if failed.get(2) == Some(&true) && !failed[..2].contains(&true) => {
                Ok(Confirmation::AddressTaken)
            }
            Err(_) => Ok(Confirmation::NotFound),
        }
    }

    pub(super) async fn restore_email(
        &self,
        token: &TokenRecord,
        user: &UserRecord,
        reset: &TokenRecord,
        now: i64,
    ) -> StoreResult<Confirmation> {
        if user.account_id != token.account_id || !user.revert_is_live(token.epoch) {
            return Ok(Confirmation::NotFound);
        }
        let (condition, mut values) = self.user_as_read(user);
        // The revert links of later changes (an intruder's chain) die.
        let mut voided = user.reverts_voided.clone();
        if user.email_changes > token.epoch {
            voided.push((token.epoch, user.email_changes));
        }
        let voided = serde_dynamo::to_attribute_value(&voided)
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("encode voided reverts: {e}")))?;
        values.insert(":voided".to_owned(), voided);
        let epoch = counter_equals("reset_epoch", ":e", user.reset_epoch);
        let changes = counter_equals("email_changes", ":changes", user.email_changes);
        values.insert(":old".to_owned(), s(token.email.as_str()));
        values.insert(":t".to_owned(), AttributeValue::Bool(true));
        values.insert(":e".to_owned(), n(user.reset_epoch));
        values.insert(":next".to_owned(), n(user.reset_epoch + 1));
        values.insert(":changes".to_owned(), n(user.email_changes));
        values.insert(":ce".to_owned(), n(user.confirm_epoch + 1));
        values.insert(":de".to_owned(), n(user.device_epoch + 1));
        values.insert(":nopwd".to_owned(), s(""));
        // Factors enrolled since the change go with it (an intruder must not
        // keep one), a setup waiting for its code always; the factors as
        // read, so that one enrolled meanwhile is not missed.
        values.insert(":mfa".to_owned(), n(user.mfa_since));
        let factors_as_read = format!(
            "{} AND {}",
            counter_equals("mfa_since", ":mfa", user.mfa_since),
            match &user.totp_secret {
                Some(secret) => {
                    values.insert(":totp".to_owned(), s(secret));
                    "totp_secret = :totp"
                }
                None => "attribute_not_exists(totp_secret)",
            }
        );
        let removed = if user.factors_since(token.epoch) {
            "pending_email, totp_pending, totp_secret, recovery_codes"
        } else {
            "pending_email, totp_pending"
        };
        // A recovery: the next reset epoch ends every session and voids the
        // reset links, the next confirm epoch the confirmation links, the
        // next device epoch every device token; the password stops working
        // until the reset link stored here (the new epoch's only one) is used.
        let update = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .update_expression(format!(
                    "SET #email = :old, is_email_verified = :t, reset_epoch = :next, \
                     confirm_epoch = :ce, device_epoch = :de, password_hash = :nopwd, \
                     reverts_voided = :voided REMOVE {removed}",
                ))
                .condition_expression(format!(
                    "{condition} AND {epoch} AND {changes} AND {factors_as_read}"
                ))
                .expression_attribute_names("#email", "email")
                .set_expression_attribute_values(with_account(values, None))
                .build(),
        )?;
        let claim = self.claim_address(&user.username, &user.account_id, &token.email, now)?;
        let mut writes = vec![TransactWriteItem::builder().update(update).build(), claim];
        if user.email != token.email {
            writes.extend(self.release_address(user)?);
        }
        writes.push(self.put(token_item(reset)?, Some("attribute_not_exists(pk)"))?);
        writes.push(self.put(token_ref_item(reset)?, None)?);
        let untrusted_run = build(
            "Delete",
            aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(failures_pk(&user.username), FAILURES_SK)))
                .build(),
        )?;
        writes.push(TransactWriteItem::builder().delete(untrusted_run).build());
        writes.extend(self.trail_items(
            user,
            Some(ActivityKind::EmailRestored),
            Some(EventKind::EmailRestored),
        )?);
        // Two-factor sign-in enrolled since the change goes with it.
        if user.totp_secret.is_some() && user.factors_since(token.epoch) {
            writes.extend(self.trail_items(
                user,
                Some(ActivityKind::MfaDisabled),
                Some(EventKind::MfaDisabled),
            )?);
        }
        match self
            .consume_token_with(token, TokenPurpose::RevertEmail, now, writes)
            .await?
        {
            Ok(()) => {}
            Err(failed) if failed.get(2) == Some(&true) && !failed[..2].contains(&true) => {
                return Ok(Confirmation::AddressTaken);
            }
            Err(_) => return Ok(Confirmation::NotFound),
        }
        // Sessions are dead already (stale epoch); deleting them is cleanup.
        if let Err(err) = self.end_sessions(&user.username, false).await {
            tracing::warn!(error = format!("{err:#}"), "revert: session cleanup failed");
        }
        Ok(Confirmation::Confirmed)
    }
}
