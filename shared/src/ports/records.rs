//! The records the store port carries: accounts, sessions, one-time
//! tokens, failure runs, and what a sign-in reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, DeviceId, EmailAddress, LoginFailures, SessionId, TokenHash, Username,
};

/// The per-user counter scopes: `RATE#<scope>#<username key>` items that an
/// account deletion removes with the account. (The per-user-and-client
/// reset counters, `reset#<username key>#<client>`, are in the `reset` scope's
/// partition too: see [`crate::http::limits`].)
pub const USER_COUNTER_SCOPES: [&str; 4] = ["reset", "resend", "notice", "signin"];

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
    /// Two-factor sign-in: the TOTP secret, sealed (see
    /// [`crate::domain::FactorKey`]); `None` while it is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// A TOTP setup waiting for its first code (sealed): sign-in ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_pending: Option<String>,
    /// The last TOTP step accepted: no code of it or of an earlier step
    /// works again.
    #[serde(default)]
    pub totp_step: u64,
    /// The unused recovery codes, by their keyed hash (the value is unused:
    /// a map, so that using one is a conditional removal of its key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recovery_codes: BTreeMap<String, u8>,
    /// `email_changes` when a factor was last enrolled (or new recovery
    /// codes made): the revert of change N removes them when this is N or
    /// more, so an intruder does not keep a factor the owner does not have.
    #[serde(default)]
    pub mfa_since: u64,
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
            totp_secret: None,
            totp_pending: None,
            totp_step: 0,
            recovery_codes: BTreeMap::new(),
            mfa_since: 0,
        }
    }

    /// Whether sign-in asks for a second factor.
    pub fn totp_on(&self) -> bool {
        self.totp_secret.is_some()
    }

    /// Whether the revert of change number `change` removes the factors:
    /// they were enrolled (or their codes made) since that change.
    pub fn factors_since(&self, change: u64) -> bool {
        self.totp_secret.is_some() && self.mfa_since >= change
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
    /// What signed in, summarised ("Firefox on Windows"); `None` for a
    /// session from before sessions recorded it, or without a User-Agent.
    pub device: Option<String>,
    /// How the sign-in was proven (RFC 8176 `amr` values: `pwd`, `otp`,
    /// `hwk`, `user`, `mfa`); empty for a session from before they were kept.
    pub amr: Vec<String>,
    /// Whether the sign-in came with a valid device token of this account
    /// (its security activity says "new device" otherwise).
    pub known_device: bool,
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
    /// The hashes of the sign-ins waiting for a second factor (deleted with
    /// the account).
    pub mfa_challenges: Vec<String>,
    /// The account's passkeys.
    pub passkeys: Vec<PasskeyRecord>,
}

impl AccountData {
    /// `sid`'s session, if it is live and belongs to this account and its
    /// current reset epoch: the same rule as [`crate::ports::SessionStore::session_user`].
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

/// A sign-in whose password was right, waiting for its second factor
/// (`USER#<key>` / `MFA#<hash>`): the attempt the `mfa_token` is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// Whose.
    pub username: Username,
    /// The account then: a later account with the username is not it.
    pub account_id: AccountId,
    /// SHA-256 hex of the raw token.
    pub hash: String,
    /// Epoch seconds after which it is void.
    pub expires_at: i64,
    /// Whether the sign-in asked to be remembered.
    pub remember: bool,
    /// The device summary the session will show.
    pub device: Option<String>,
    /// The trusted device token's id, when the password step came with one:
    /// its failure run then counts the codes, as it counted the password.
    pub device_id: Option<DeviceId>,
    /// The account's reset and session epochs at the password step: a
    /// reset or "sign out everywhere" since voids the attempt.
    pub reset_epoch: u64,
    /// See `reset_epoch`.
    pub session_epoch: u64,
    /// Wrong codes so far (each claimed before it is checked).
    pub fails: u32,
}

/// A second factor about to be used: it works once.
#[derive(Clone, PartialEq, Eq)]
pub enum FactorUse {
    /// A TOTP code of this step: accepted only above the last step used.
    Step(u64),
    /// A recovery code, by its keyed hash: accepted only while unused.
    Recovery(String),
    /// A passkey's assertion: its credential's dynamic state moves from
    /// `old` to `new` (only from `old`: an answer counts once).
    Passkey {
        /// The credential id.
        credential_id: String,
        /// The dynamic state read.
        old: String,
        /// The dynamic state after the assertion.
        new: String,
    },
}

impl std::fmt::Debug for FactorUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Step(s) => write!(f, "FactorUse::Step({s})"),
            Self::Recovery(_) => f.write_str("FactorUse::Recovery(..)"),
            Self::Passkey { .. } => f.write_str("FactorUse::Passkey(..)"),
        }
    }
}

/// One passkey of an account (`USER#<key>` / `PASSKEY#<credential id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// Whose.
    pub username: Username,
    /// The account it was added to.
    pub account_id: AccountId,
    /// The credential and its key material (as the RP library encodes it).
    pub credential: crate::domain::passkey::StoredCredential,
    /// As the owner named it.
    pub name: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds of the last sign-in with it.
    pub last_used_at: Option<i64>,
    /// The account's count of address changes when it was added: the
    /// revert of a change numbered at or below it removes it.
    pub since: u64,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CeremonyKind {
    /// Adding a passkey to the account.
    Register,
    /// Signing in with any passkey (no username).
    SignIn,
    /// A passkey as the second factor of a pending sign-in.
    SecondFactor,
}

/// A WebAuthn ceremony waiting for its answer (`CEREMONY#<id>`): taken
/// (deleted) by the answer, so it works once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// Its id (random; the client sends it back).
    pub id: String,
    /// What it is for.
    pub kind: CeremonyKind,
    /// The RP library's server state (the challenge among it).
    pub state: Vec<u8>,
    /// The account, for a registration or a second factor.
    pub account: Option<(Username, AccountId)>,
    /// Epoch seconds after which it is void.
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
