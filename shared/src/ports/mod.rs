//! Ports: what handlers and rules need from the world, as traits, with the
//! records they carry. [`App`] bundles them with the configuration; the
//! adapters in [`crate::adapters`] implement them.

mod app;
mod clock;
mod keys;
mod mailer;
mod store;

pub use app::App;
pub use clock::Clock;
pub use keys::{KeyRing, KeySource, KeysUnavailable, MAX_KEY_AGE_SECS, REFRESH_COOLDOWN_SECS};
pub use mailer::{MailError, Mailer};
pub use store::{
    AccountData, Confirmation, CreateUserError, FailureRun, LoginState, PendingEmail,
    SessionRecord, StoreError, StoreResult, TokenPurpose, TokenRecord, USER_COUNTER_SCOPES,
    UserRecord, UserStore, WriteOutcome,
};
