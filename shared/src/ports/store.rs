//! The store port: users, sessions, one-time tokens and rate counters.
//!
//! Methods are use cases, not tables, so that each adapter can do each one in
//! the fewest round trips and atomically (see the README's round-trip table).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, EmailAddress, LoginFailures, RateCap, SessionId, TokenHash, Username,
};
use crate::error::ApiError;

/// A stored account.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserRecord {
    /// As first written (`Admin`); stored and looked up by its key.
    pub username: Username,
    /// This account, as opposed to a later one with the same username.
    #[serde(default)]
    pub account_id: AccountId,
    /// Trimmed full name.
    pub full_name: String,
    /// As registered. Unique by its key among confirmed addresses only: an
    /// address belongs to the first account that proves it can read its mail.
    pub email: EmailAddress,
    /// Optional phone.
    pub phone: Option<String>,
    /// Optional contacts.
    pub contacts: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Set by the confirmation link or a password reset.
    pub is_email_verified: bool,
    /// Epoch seconds.
    pub created_at: i64,
    /// Bumped by every password reset; a reset token is only good for the
    /// epoch it was issued in, so one completed reset voids the others.
    #[serde(default)]
    pub reset_epoch: u64,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("is_email_verified", &self.is_email_verified)
            .finish_non_exhaustive()
    }
}

/// One login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Owner.
    pub username: Username,
    /// The owner's account when the session began: a session never
    /// authenticates a later account with the same username.
    pub account_id: AccountId,
    /// Session id (the JWT's `sid`).
    pub sid: SessionId,
    /// The owner's `reset_epoch` at login: a password reset bumps it, which
    /// ends this session even if a racing login wrote it after the reset.
    pub reset_epoch: u64,
    /// Epoch seconds of creation.
    pub created_at: i64,
    /// Epoch seconds after which the session is over.
    pub expires_at: i64,
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Email confirmation (sent on registration).
    Confirm,
    /// Password reset (sent on request).
    Reset,
}

/// A stored one-time token (only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 of the raw token.
    pub hash: TokenHash,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// Owner.
    pub username: Username,
    /// The owner's account when the token was issued: a token never acts on
    /// a later account with the same username.
    pub account_id: AccountId,
    /// The address the link was mailed to: using the link proves that
    /// mailbox, and only while it is still the account's address.
    pub email: EmailAddress,
    /// Epoch seconds after which the token is void.
    pub expires_at: i64,
    /// For reset tokens, the owner's `reset_epoch` when issued (0 otherwise).
    pub epoch: u64,
}

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

    /// The user with this username key.
    async fn get_user(&self, username: &Username) -> StoreResult<Option<UserRecord>>;

    /// The user (if any) and the current failed-login run for this username key.
    async fn login_state(
        &self,
        username: &Username,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, LoginFailures)>;

    /// Counts a login attempt before its password is checked, but only if the
    /// run is still what [`UserStore::login_state`] returned (`seen`): of
    /// concurrent attempts, one wins and the others get `false`, so a burst
    /// cannot test more passwords than the lockout allows. The run is
    /// forgotten after `expires_at`; a successful login ends it. `attempt`
    /// names this attempt, so that a write the adapter retried (after a
    /// timeout, say) is recognised as its own rather than a rival's.
    async fn claim_login_attempt(
        &self,
        username: &Username,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
        attempt: &SessionId,
    ) -> StoreResult<bool>;

    /// Stores a new session, but only while its account exists (`false`,
    /// nothing written, when it is gone); with `clear_failures`, also ends
    /// the failed-login run.
    async fn create_session(
        &self,
        session: &SessionRecord,
        clear_failures: bool,
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
    ) -> StoreResult<Option<UserRecord>>;

    /// Deletes a live session; `false` when it was already gone or expired.
    async fn delete_session(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<bool>;

    /// Stores a token, but only if every cap's counter is below its limit
    /// (and then counts it in each). `false` when a cap was reached (nothing
    /// written).
    async fn put_token(&self, token: &TokenRecord, caps: &[RateCap]) -> StoreResult<bool>;

    /// A live token of this purpose, without consuming it.
    async fn get_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: i64,
    ) -> StoreResult<Option<TokenRecord>>;

    /// Consumes a live confirmation token, marks its user's email verified and
    /// claims the address for that account, all at once: nothing changes
    /// unless the address is free or already this account's.
    async fn confirm_email(&self, hash: &TokenHash, now: i64) -> StoreResult<Confirmation>;

    /// Consumes a live reset token (as read by [`UserStore::get_token`]) if its
    /// owner has had no reset since it was issued, sets the password hash,
    /// bumps the reset epoch, ends every session and the failed-login run.
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
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(e) => Self::Unavailable(e),
            StoreError::Internal(e) => Self::Internal(e),
        }
    }
}
