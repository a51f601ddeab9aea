//! The DynamoDB store: one-time links: confirmation, reset, change and revert of the address, resent links.

use async_trait::async_trait;

use super::*;
use crate::ports::{AccountStore, LinkStore};

#[async_trait]
impl LinkStore for DynamoStore {
    async fn put_token(&self, token: &TokenRecord, caps: &[RateCap]) -> StoreResult<WriteOutcome> {
        self.put_token_capped(token, caps).await
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
        let mut writes = vec![TransactWriteItem::builder().update(verify).build(), claim];
        writes.extend(self.trail_of(
            &token.username,
            &token.account_id,
            Some(ActivityKind::EmailConfirmed),
            Some(EventKind::EmailConfirmed),
        )?);
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
        let reset = || {
            self.trail_of(
                username,
                &token.account_id,
                Some(ActivityKind::PasswordReset),
                Some(EventKind::PasswordReset),
            )
        };
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(self.password_update(token, password_hash, true)?)
                .build(),
            self.claim_address(username, &token.account_id, &token.email, now)?,
        ];
        writes.extend(reset()?);
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
                let mut writes = vec![
                    TransactWriteItem::builder()
                        .update(self.password_update(token, password_hash, false)?)
                        .build(),
                ];
                writes.extend(reset()?);
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
}
