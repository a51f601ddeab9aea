//! The in-memory store: one-time links: confirmation, reset, change and revert of the address, resent links.

use async_trait::async_trait;

use super::*;
use crate::ports::LinkStore;

#[async_trait]
impl LinkStore for MemoryStore {
    async fn put_token(&self, token: &TokenRecord, caps: &[RateCap]) -> StoreResult<WriteOutcome> {
        let mut t = self.lock()?;
        if !t.is_account(&token.username, &token.account_id) {
            return Ok(WriteOutcome::Stale);
        }
        if !take_caps(&mut t, caps) {
            return Ok(WriteOutcome::Capped);
        }
        t.tokens.insert(token.hash.clone(), token.clone());
        Ok(WriteOutcome::Done)
    }

    async fn get_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: i64,
    ) -> StoreResult<Option<TokenRecord>> {
        Ok(self.lock()?.live_token(hash, purpose, now).cloned())
    }

    async fn confirm_email(&self, hash: &TokenHash, now: i64) -> StoreResult<Confirmation> {
        let mut t = self.lock()?;
        let token = match t.live_token(hash, TokenPurpose::Confirm, now) {
            Some(token) => token.clone(),
            None => match t.live_token(hash, TokenPurpose::ChangeEmail, now) {
                Some(token) => token.clone(),
                None => return Ok(Confirmation::NotFound),
            },
        };
        // Like the DynamoDB transaction: a token whose account is gone, or
        // whose address another account holds, is refused and left as it is.
        let username_key = token.username.key().to_owned();
        let Some(user) = t
            .users
            .get(&username_key)
            .filter(|u| u.account_id == token.account_id)
            .cloned()
        else {
            return Ok(Confirmation::NotFound);
        };
        if token.purpose == TokenPurpose::Confirm {
            let latest =
                user.confirm_epoch == token.epoch && user.email.as_str() == token.email.as_str();
            if !latest {
                return Ok(Confirmation::NotFound);
            }
            if !t.claim_address(&username_key, &token.email) {
                return Ok(Confirmation::AddressTaken);
            }
        } else {
            let pending = user
                .pending_email
                .as_ref()
                .is_some_and(|p| p.email.as_str() == token.email.as_str());
            if !pending {
                return Ok(Confirmation::NotFound);
            }
            let mut moved = user.clone();
            moved.email = token.email.clone();
            if !t.address_free_for(&moved) {
                return Ok(Confirmation::AddressTaken);
            }
            t.release_address(&user);
            if let Some(u) = t.users.get_mut(&username_key) {
                u.email = token.email.clone();
                u.pending_email = None;
            }
            t.claim_address(&username_key, &token.email);
        }
        t.tokens.remove(hash);
        let event = if token.purpose == TokenPurpose::Confirm {
            EventKind::EmailConfirmed
        } else {
            EventKind::EmailChanged
        };
        t.trail(&user, Some(ActivityKind::EmailConfirmed), Some(event));
        Ok(Confirmation::Confirmed)
    }

    async fn request_email_change(
        &self,
        user: &UserRecord,
        pending: &PendingEmail,
        change: &TokenRecord,
        revert: Option<&TokenRecord>,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        let mut t = self.lock()?;
        let same = t.users.get(user.username.key()).is_some_and(|u| {
            u.account_id == user.account_id
                && u.email.as_str() == user.email.as_str()
                && u.email_changes == user.email_changes
        });
        if !same {
            return Ok(WriteOutcome::Stale);
        }
        if !caps.iter().all(|cap| below_limit(&t, cap)) {
            return Ok(WriteOutcome::Capped);
        }
        take_caps(&mut t, caps);
        if let Some(u) = t.users.get_mut(user.username.key()) {
            u.pending_email = Some(pending.clone());
            u.email_changes = user.email_changes + 1;
        }
        t.tokens.insert(change.hash.clone(), change.clone());
        if let Some(revert) = revert {
            t.tokens.insert(revert.hash.clone(), revert.clone());
        }
        t.trail(user, Some(ActivityKind::EmailChangeRequested), None);
        Ok(WriteOutcome::Done)
    }

    async fn revert_email(
        &self,
        revert: &TokenRecord,
        user: &UserRecord,
        reset: &TokenRecord,
        now: i64,
    ) -> StoreResult<Confirmation> {
        let mut t = self.lock()?;
        let live = t
            .live_token(&revert.hash, TokenPurpose::RevertEmail, now)
            .is_some_and(|tok| tok.username.key() == revert.username.key());
        let username_key = revert.username.key().to_owned();
        // Like the DynamoDB condition: the account as the handler read it.
        let as_read = t.users.get(&username_key).is_some_and(|u| {
            u.account_id == revert.account_id
                && u.account_id == user.account_id
                && u.email.as_str() == user.email.as_str()
                && u.reset_epoch == user.reset_epoch
                && u.email_changes == user.email_changes
                && u.mfa_since == user.mfa_since
                && u.totp_secret == user.totp_secret
                && u.revert_is_live(revert.epoch)
        });
        if !live || !as_read {
            return Ok(Confirmation::NotFound);
        }
        let mut restored = user.clone();
        restored.email = revert.email.clone();
        if !t.address_free_for(&restored) {
            return Ok(Confirmation::AddressTaken);
        }
        if user.email.as_str() != revert.email.as_str() {
            t.release_address(user);
        }
        if let Some(u) = t.users.get_mut(&username_key) {
            u.email = revert.email.clone();
            u.pending_email = None;
            u.password_hash = String::new();
            u.reset_epoch += 1;
            u.confirm_epoch += 1;
            u.device_epoch += 1;
            if u.email_changes > revert.epoch {
                u.reverts_voided.push((revert.epoch, u.email_changes));
            }
            // Factors enrolled since the change go with it; a setup
            // waiting for its code always.
            u.totp_pending = None;
            if user.factors_since(revert.epoch) {
                u.totp_secret = None;
                u.recovery_codes.clear();
            }
        }
        t.claim_address(&username_key, &revert.email);
        t.end_sessions(&username_key);
        t.login_failures.remove(&username_run(&username_key));
        t.tokens.remove(&revert.hash);
        t.tokens.insert(reset.hash.clone(), reset.clone());
        t.trail(
            user,
            Some(ActivityKind::EmailRestored),
            Some(EventKind::EmailRestored),
        );
        // Two-factor sign-in enrolled since the change goes with it.
        if user.totp_secret.is_some() && user.factors_since(revert.epoch) {
            t.trail(
                user,
                Some(ActivityKind::MfaDisabled),
                Some(EventKind::MfaDisabled),
            );
        }
        Ok(Confirmation::Confirmed)
    }

    async fn resend_confirmation(
        &self,
        user: &UserRecord,
        token: &TokenRecord,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        let mut t = self.lock()?;
        let same = t.users.get(user.username.key()).is_some_and(|u| {
            u.account_id == user.account_id
                && u.email.as_str() == user.email.as_str()
                && !u.is_email_verified
                && u.confirm_epoch == user.confirm_epoch
        });
        if !same {
            return Ok(WriteOutcome::Stale);
        }
        if !caps.iter().all(|cap| below_limit(&t, cap)) {
            return Ok(WriteOutcome::Capped);
        }
        take_caps(&mut t, caps);
        if let Some(u) = t.users.get_mut(user.username.key()) {
            u.confirm_epoch = token.epoch;
        }
        t.tokens.insert(token.hash.clone(), token.clone());
        Ok(WriteOutcome::Done)
    }

    async fn reset_password(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        let mut t = self.lock()?;
        let username_key = token.username.key();
        let live = t
            .live_token(&token.hash, TokenPurpose::Reset, now)
            .is_some_and(|tok| tok.username.key() == username_key);
        // The link proves only the address it was mailed to: once that is
        // not the account's address any more, the link is void.
        let same_epoch = t.users.get(username_key).is_some_and(|u| {
            u.reset_epoch == token.epoch
                && u.account_id == token.account_id
                && u.email.as_str() == token.email.as_str()
        });
        if !live || !same_epoch {
            return Ok(None);
        }
        t.tokens.remove(&token.hash);
        t.end_sessions(username_key);
        t.login_failures.remove(&username_run(username_key));
        if let Some(user) = t.users.get_mut(username_key) {
            user.password_hash = password_hash.to_owned();
            user.pending_email = None;
            user.reset_epoch += 1;
            user.device_epoch += 1;
        }
        t.claim_address(username_key, &token.email);
        let user = t.users.get(username_key).cloned();
        if let Some(user) = &user {
            t.trail(
                user,
                Some(ActivityKind::PasswordReset),
                Some(EventKind::PasswordReset),
            );
        }
        Ok(user)
    }
}
