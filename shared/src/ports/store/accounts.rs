//! Accounts: registration, the profile, the password, the address's holder, deletion.

use async_trait::async_trait;

use super::*;

/// Accounts: registration, the profile, the password, the address's holder, deletion.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Atomically stores a new, unconfirmed user and its confirmation token;
    /// nothing is written unless both can be. The address is not claimed:
    /// only a confirmation (or a reset) claims it, see
    /// [`LinkStore::confirm_email`].
    async fn create_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> Result<(), CreateUserError>;

    /// Undoes [`AccountStore::create_user`] when the confirmation email could not
    /// be sent, so that a retry is not blocked. Only removes an unverified user.
    async fn delete_unverified_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> StoreResult<()>;

    /// The username of the account that has confirmed this address (by its
    /// key), if any.
    async fn address_holder(&self, email: &EmailAddress) -> StoreResult<Option<Username>>;

    /// [`Self::address_holder`] where a read a second old is as good: it
    /// only chooses which mail goes to the address (a link, or the "already
    /// registered" notice), never who gets in: a link that reaches an
    /// address claimed meanwhile is refused when used (the claim is
    /// conditional). DynamoDB reads it eventually consistent, for half the
    /// read units.
    async fn address_holder_hint(&self, email: &EmailAddress) -> StoreResult<Option<Username>> {
        self.address_holder(email).await
    }

    /// The user with this username key.
    async fn get_user(&self, username: &Username) -> StoreResult<Option<UserRecord>>;

    /// The user's partition: profile, sessions and outstanding tokens.
    async fn account_data(&self, username: &Username) -> StoreResult<Option<AccountData>>;

    /// Writes `user`'s `full_name`, `phone` and `contacts`, only while the
    /// account is `user.account_id`; the stored user afterwards, or `None`.
    async fn update_profile(&self, user: &UserRecord) -> StoreResult<Option<UserRecord>>;

    /// Sets a new password hash on `user`'s account if its reset epoch is
    /// still `user.reset_epoch`, and bumps it: every session ends at once
    /// except `keep` (moved to the new epoch), outstanding reset links die,
    /// a pending change of address is cancelled, and the failed-login run
    /// ends. `false` when the account changed
    /// meanwhile. The other sessions' items are deleted afterwards.
    async fn change_password(
        &self,
        user: &UserRecord,
        password_hash: &str,
        keep: &SessionId,
    ) -> StoreResult<bool>;

    /// The account's security activity still kept at `now`, newest first:
    /// at most `limit` items, those older than the item `before` (an id
    /// from an earlier page) when given.
    async fn security_events(
        &self,
        username: &Username,
        now: i64,
        before: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ActivityRecord>>;

    /// Records `activity` for `user`'s account where no other change goes
    /// with it (a failed sign-in, an export); `false`, nothing written,
    /// when the account is gone or being deleted.
    async fn note_activity(
        &self,
        user: &UserRecord,
        activity: &ActivityRecord,
    ) -> StoreResult<bool>;

    /// Deletes everything stored about the account read as `data`: profile,
    /// sessions, tokens, its address (if it holds it), its failed-login run
    /// and its per-user counters. Idempotent: a retry after a failure
    /// finishes the job; the profile and the caller's session (`current`)
    /// go last, together, so that until then a retry still authenticates.
    async fn delete_account(&self, data: &AccountData, current: &SessionId) -> StoreResult<()>;
}
