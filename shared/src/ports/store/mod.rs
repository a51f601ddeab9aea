//! The store port: users, sessions, one-time tokens, rate counters and second factors.
//!
//! Methods are use cases, not tables, so that each adapter can do each one in
//! the fewest round trips and atomically (see docs/ARCHITECTURE.md, "DynamoDB calls per request").

mod accounts;
mod factors;
mod limits;
mod links;
mod passkeys;
mod sessions;

pub use accounts::AccountStore;
pub use factors::FactorStore;
pub use limits::LimitStore;
pub use links::LinkStore;
pub use passkeys::{AddPasskey, PasskeyStore};
pub use sessions::SessionStore;

use super::records::{
    AccountData, CeremonyRecord, FactorUse, FailureRun, LoginState, MfaChallenge, PasskeyRecord,
    PendingEmail, SessionRecord, TokenPurpose, TokenRecord, UserRecord,
};
use super::trail::ActivityRecord;
use crate::domain::activity::ActivityKind;
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

/// The storage port: the six traits by concern, together. Every
/// implementation must pass the store contract tests.
pub trait UserStore:
    AccountStore + SessionStore + LinkStore + LimitStore + FactorStore + PasskeyStore + Send + Sync
{
}

impl<
    T: AccountStore + SessionStore + LinkStore + LimitStore + FactorStore + PasskeyStore + Send + Sync,
> UserStore for T
{
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(e) => Self::Unavailable(e),
            StoreError::Internal(e) => Self::Internal(e),
        }
    }
}
