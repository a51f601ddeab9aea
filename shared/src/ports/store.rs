//! The store port: users, sessions, one-time tokens and rate counters.
//!
//! Methods are use cases, not tables, so that each adapter can do each one in
//! the fewest round trips and atomically (see the README's round-trip table).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, DeviceId, EmailAddress, LoginFailures, RateCap, SessionId, TokenHash, Username,
};

/// The per-user counter scopes: `RATE#<scope>#<username key>` items that an
/// account deletion removes with the account. (The per-user-and-client
/// reset counters, `reset#<username key>#<client>`, are in the `reset` scope's
/// partition too: see [`crate::http::limits`].)
pub const USER_COUNTER_SCOPES: [&str; 3] = ["reset", "resend", "notice"];

/// A run of consecutive failed sign-ins, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureRun {
    /// Of clients without a valid device token, for a username (existing
    /// or not): the lockout untrusted clients face.
    Username(Username),
    /// Of one device token: only that device is slowed down.
    Device(DeviceId),
}

impl FailureRun {
    /// The run's key among the counters (`login#<username key>`,
    /// `device#<device id>`).
    pub fn key(&self) -> String {
        match self {
            Self::Username(u) => format!("login#{}", u.key()),
            Self::Device(d) => format!("device#{}", d.as_str()),
        }
    }
}

/// What a sign-in reads before checking a password: the account and the
/// failure runs that may apply to it.
#[derive(Debug, Clone, Default)]
pub struct LoginState {
    /// The account with that username, if any.
    pub user: Option<UserRecord>,
    /// The username's run (clients without a valid device token).
    pub failures: LoginFailures,
    /// The device's run, when a device was named.
    pub device_failures: LoginFailures,
}
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
    /// argon2id PHC string; empty while the password is disabled (after a
    /// revert, until a reset sets a new one).
    pub password_hash: String,
    /// Set by the confirmation link or a password reset.
    pub is_email_verified: bool,
    /// Epoch seconds.
    pub created_at: i64,
    /// Bumped by every password reset or change; a reset token is only good
    /// for the epoch it was issued in, so one completed reset voids the
    /// others, and a session only for the epoch it began in.
    #[serde(default)]
    pub reset_epoch: u64,
    /// Bumped by every resent confirmation link: only the latest link works.
    #[serde(default)]
    pub confirm_epoch: u64,
    /// A change of address waiting for its link to be opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_email: Option<PendingEmail>,
    /// Changes of address asked for so far: each revert link carries the
    /// number of its change.
    #[serde(default)]
    pub email_changes: u64,
    /// Revert links voided by a revert: `(used, last]` means the links of
    /// changes `used+1 ..= last`. Using an older link voids the newer ones
    /// (an intruder's chain of changes), never the other way round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reverts_voided: Vec<(u64, u64)>,
    /// Device tokens are good only for the epoch they were issued in: a
    /// revert, a reset and a password change move it on, untrusting every
    /// device (the client that made the change gets a new token).
    #[serde(default)]
    pub device_epoch: u64,
    /// Moved on by "sign out everywhere": every session of an earlier one
    /// is over (a login racing it too), and nothing else is touched.
    #[serde(default)]
    pub session_epoch: u64,
}

impl UserRecord {
    /// A new, unconfirmed account with nothing optional set and every
    /// counter at its start: what a registration writes.
    pub fn new(
        username: Username,
        account_id: AccountId,
        full_name: String,
        email: EmailAddress,
        password_hash: String,
        created_at: i64,
    ) -> Self {
        Self {
            username,
            account_id,
            full_name,
            email,
            phone: None,
            contacts: None,
            password_hash,
            is_email_verified: false,
            created_at,
            reset_epoch: 0,
            confirm_epoch: 0,
            pending_email: None,
            email_changes: 0,
            reverts_voided: Vec::new(),
            device_epoch: 0,
            session_epoch: 0,
        }
    }

    /// The password hash to check a password against; `None` while the
    /// password is disabled (then every password is wrong, at the cost of
    /// a dummy check, exactly as for an unknown user).
    pub fn password_phc(&self) -> Option<String> {
        (!self.password_hash.is_empty()).then(|| self.password_hash.clone())
    }

    /// Whether the revert link of change number `change` still works.
    pub fn revert_is_live(&self, change: u64) -> bool {
        !self
            .reverts_voided
            .iter()
            .any(|(used, last)| change > *used && change <= *last)
    }
}

/// A requested change of address, not yet confirmed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingEmail {
    /// The new address (the link went there).
    pub email: EmailAddress,
    /// Epoch seconds when its link expires.
    pub expires_at: i64,
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
    /// Whether the login asked to be remembered.
    pub remember: bool,
    /// Wrong passwords re-entered in this session in a row (each claimed
    /// before it is checked); the session ends at the limit.
    pub pwd_failures: u32,
    /// The owner's `session_epoch` at login: "sign out everywhere" moves it on.
    pub session_epoch: u64,
}

/// Everything stored in a user's own partition, read at once: the profile,
/// the sessions and the outstanding one-time tokens.
#[derive(Debug, Clone)]
pub struct AccountData {
    /// The profile.
    pub user: UserRecord,
    /// Every session, live or not (expired ones wait for the TTL).
    pub sessions: Vec<SessionRecord>,
    /// Every outstanding token, by its hash (the raw token is never stored).
    pub tokens: Vec<TokenRecord>,
}

impl AccountData {
    /// `sid`'s session, if it is live and belongs to this account and its
    /// current reset epoch: the same rule as [`UserStore::session_user`].
    pub fn live_session(&self, sid: &SessionId, now: i64) -> Option<&SessionRecord> {
        self.sessions
            .iter()
            .find(|s| &s.sid == sid)
            .filter(|s| s.is_live_for(&self.user, now))
    }
}

impl SessionRecord {
    /// Whether this session authenticates `user` at `now`.
    pub fn is_live_for(&self, user: &UserRecord, now: i64) -> bool {
        self.expires_at > now
            && self.reset_epoch == user.reset_epoch
            && self.session_epoch == user.session_epoch
            && self.account_id == user.account_id
    }
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Email confirmation (sent on registration).
    Confirm,
    /// Password reset (sent on request).
    Reset,
    /// Confirms a change of address (sent to the new address).
    ChangeEmail,
    /// Undoes a change of address (sent to the old address).
    RevertEmail,
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
