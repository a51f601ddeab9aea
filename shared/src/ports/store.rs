//! The store port: users, sessions, one-time tokens and rate counters.
//!
//! Methods are use cases, not tables, so that each adapter can do each one in
//! the fewest round trips and atomically (see docs/ARCHITECTURE.md, "DynamoDB calls per request").

use async_trait::async_trait;

use super::records::{
    AccountData, FailureRun, LoginState, PendingEmail, SessionRecord, TokenPurpose, TokenRecord,
    UserRecord,
};
use crate::domain::{
    DeviceId, EmailAddress, LoginFailures, RateCap, SessionId, TokenHash, Username,
};
use crate::error::ApiError;

/// What a confirmation link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The account's address is verified and now belongs to it.
    Confirmed,
    /// The token is unknown, used, expired, or its account is gone.
    NotFound,
    /// Another account confirmed this address first; the token is left as it was.
    AddressTaken,
}

/// What a guarded write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written.
    Done,
    /// A cap was reached: nothing written.
    Capped,
    /// The account is not as it was read (gone, changed, or confirmed
    /// meanwhile): nothing written.
    Stale,
}

/// Why a registration was not stored.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The username (any case) belongs to an account.
    #[error("username taken")]
    UsernameTaken,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A store failure. Never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, unreachable or failing: retrying later may work (503).
    #[error("store unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Corrupt data or a bug (500).
    #[error("store error")]
    Internal(#[source] anyhow::Error),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// The storage port. Every implementation must pass the store contract tests.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Atomically stores a new, unconfirmed user and its confirmation token;
    /// nothing is written unless both can be. The address is not claimed:
    /// only a confirmation (or a reset) claims it, see
    /// [`UserStore::confirm_email`].
    async fn create_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> Result<(), CreateUserError>;

    /// Undoes [`UserStore::create_user`] when the confirmation email could not
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

    /// The user (if any), the username's failed-login run and, when
    /// `device` is given, that device's run: one read.
    async fn login_state(
        &self,
        username: &Username,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<LoginState>;

    /// Counts a login attempt against `run` before its password is checked,
    /// but only if the run is still what [`UserStore::login_state`] returned
    /// (`seen`): of concurrent attempts, one wins and the others get
    /// `false`, so a burst cannot test more passwords than the lockout
    /// allows. The run is forgotten after `expires_at`; a successful login
    /// ends it. `attempt` names this attempt, so that a write the adapter
    /// retried (after a timeout, say) is recognised as its own rather than
    /// a rival's.
    async fn claim_login_attempt(
        &self,
        run: &FailureRun,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
        attempt: &SessionId,
    ) -> StoreResult<bool>;

    /// Stores a new session, but only while its account exists (`false`,
    /// nothing written, when it is gone); with `clear`, also ends that
    /// failed-login run.
    async fn create_session(
        &self,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool>;

    /// Ends the user's oldest sessions so that at most `keep` remain,
    /// `current` (the one just created) always among them; returns how many
    /// ended. Keeps the number of sessions, and so the work of ending all of
    /// them, bounded.
    async fn end_sessions_beyond(
        &self,
        username: &Username,
        keep: usize,
        current: &SessionId,
    ) -> StoreResult<usize>;

    /// The user owning a live session, or `None` when the session is gone,
    /// expired, or from before the user's latest password reset.
    async fn session_user(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        Ok(self
            .session_user_until(username, sid, now)
            .await?
            .map(|(user, _)| user))
    }

    /// [`UserStore::session_user`], with when the session expires (one read).
    async fn session_user_until(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<(UserRecord, i64)>>;

    /// [`UserStore::session_user`] and the session's run of wrong
    /// passwords re-entered, read at once: for a signed-in user about to
    /// re-enter a password.
    async fn session_user_and_failures(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, u32)>;

    /// Counts a password re-entered in session `sid` before it is checked,
    /// only if the session is live and its run is still `seen`: of
    /// concurrent attempts one wins, the others get `false`.
    async fn claim_password_attempt(
        &self,
        username: &Username,
        sid: &SessionId,
        seen: u32,
        now: i64,
    ) -> StoreResult<bool>;

    /// Ends session `sid`'s run of wrong passwords (a right one was given).
    async fn clear_password_failures(
        &self,
        username: &Username,
        sid: &SessionId,
    ) -> StoreResult<()>;

    /// Deletes a live session; `false` when it was already gone or expired.
    async fn delete_session(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<bool>;

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

    /// Consumes a live reset token (as read by [`UserStore::get_token`]) if its
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

    /// Counts a hit against a fixed-window cap; `false` when the cap was reached.
    async fn hit(&self, cap: &RateCap) -> StoreResult<bool>;

    /// Takes back one hit of `cap`'s window (never below zero; nothing when
    /// the window is gone).
    async fn refund(&self, cap: &RateCap) -> StoreResult<()>;

    /// Counts a hit against a cap of `user`'s own (removed with the
    /// account), only while that account exists: `Capped` past the limit,
    /// `Stale` when the account is gone (nothing counted).
    async fn hit_for_account(&self, cap: &RateCap, user: &UserRecord) -> StoreResult<WriteOutcome>;

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

    /// Ends a failed-login run (a correct password was given).
    async fn forget_login_failures(&self, run: &FailureRun) -> StoreResult<()>;

    /// Ends every session of `user`'s account at once, by moving its
    /// session epoch on (so a login racing this cannot leave a live
    /// session; links and devices are untouched); the session items are
    /// deleted afterwards. `false` when the account is gone.
    async fn end_all_sessions(&self, user: &UserRecord) -> StoreResult<bool>;

    /// Deletes everything stored about the account read as `data`: profile,
    /// sessions, tokens, its address (if it holds it), its failed-login run
    /// and its per-user counters. Idempotent: a retry after a failure
    /// finishes the job; the profile and the caller's session (`current`)
    /// go last, together, so that until then a retry still authenticates.
    async fn delete_account(&self, data: &AccountData, current: &SessionId) -> StoreResult<()>;
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(e) => Self::Unavailable(e),
            StoreError::Internal(e) => Self::Internal(e),
        }
    }
}
