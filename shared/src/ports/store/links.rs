//! One-time links and what using them does: confirmation, reset, change and revert of the address, resent links.

use async_trait::async_trait;

use super::*;

/// One-time links and what using them does: confirmation, reset, change and revert of the address, resent links.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// Stores a token, but only while its account (`token.account_id`)
    /// exists, and only if every cap's counter is below its limit (then it
    /// counts in each). `Capped` when a cap was reached, `Stale` when the
    /// account is gone (nothing written either way).
    async fn put_token(&self, token: &TokenRecord, caps: &[RateCap]) -> StoreResult<WriteOutcome>;

    /// A live token of this purpose, without consuming it.
    async fn get_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: i64,
    ) -> StoreResult<Option<TokenRecord>>;

    /// Consumes a live confirmation token, marks its user's email verified and
    /// claims the address for that account, all at once: nothing changes
    /// unless the address is free or already this account's. A registration
    /// link works only if it is the latest sent (`confirm_epoch`) and the
    /// account's address is still the one it was sent to; a change-of-address
    /// link only while that change is the pending one, and it then makes the
    /// new address the account's (releasing the old one).
    async fn confirm_email(&self, hash: &TokenHash, now: i64) -> StoreResult<Confirmation>;

    /// Consumes a live reset token (as read by [`LinkStore::get_token`]) if its
    /// owner has had no reset since it was issued, sets the password hash,
    /// bumps the reset epoch, cancels a pending change of address, ends every
    /// session and the failed-login run.
    /// The reset proves the mailbox too: the email is marked verified and the
    /// address claimed, unless another account holds it (then the password
    /// is still changed and the email stays unverified). Returns the updated
    /// user, or `None` when the token was no longer good.
    async fn reset_password(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>>;

    /// Records a requested change of `user`'s address to `pending` and
    /// stores its links at once: `change` (mailed to the new address) and,
    /// when the current address is verified, `revert` (mailed to it, its
    /// epoch the number of this change, `user.email_changes + 1`), under
    /// `caps`. Replaces an earlier pending change (whose link then no
    /// longer works).
    async fn request_email_change(
        &self,
        user: &UserRecord,
        pending: &PendingEmail,
        change: &TokenRecord,
        revert: Option<&TokenRecord>,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome>;

    /// Consumes the live revert link `revert` of `user` (as read: the write
    /// applies only while the account, its address and its reset epoch are
    /// unchanged, else `NotFound`), as a recovery: the address it was sent
    /// to becomes (or stays) the account's, verified and claimed; the
    /// password is disabled until a reset; every session ends, every device
    /// is untrusted; every other link dies (reset and confirmation links,
    /// a pending change, the revert links of later changes) except the
    /// revert links of earlier changes; and `reset` (a reset link to the
    /// restored address, in the next reset epoch) is stored, all at once.
    /// `AddressTaken` when another account has claimed that address since
    /// (nothing changes).
    async fn revert_email(
        &self,
        revert: &TokenRecord,
        user: &UserRecord,
        reset: &TokenRecord,
        now: i64,
    ) -> StoreResult<Confirmation>;

    /// Stores a fresh confirmation link for `user` (unverified, address
    /// unchanged) under `caps`, and voids every earlier one.
    async fn resend_confirmation(
        &self,
        user: &UserRecord,
        token: &TokenRecord,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome>;
}
