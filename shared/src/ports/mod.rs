//! Ports: what handlers and rules need from the world, as traits, with the
//! records they carry. [`App`] bundles them with the configuration; the
//! adapters in [`crate::adapters`] implement them.

mod app;
mod clock;
mod keys;
mod mailer;
mod records;
mod service_keys;
mod store;
mod trail;

pub use app::App;
pub use clock::Clock;
pub use keys::{KeyRing, KeySource, KeysUnavailable, MAX_KEY_AGE_SECS, REFRESH_COOLDOWN_SECS};
pub use mailer::{ADDRESS_CAP_REACHED, MailError, Mailer};
pub use records::{
    AccountData, CeremonyKind, CeremonyRecord, FactorUse, FailureRun, LoginState, MfaChallenge,
    PasskeyRecord, PendingEmail, SessionRecord, TokenPurpose, TokenRecord, USER_COUNTER_SCOPES,
    UserRecord,
};
pub use service_keys::{ServiceKeyRing, ServiceKeySource};
pub use store::{
    AccountStore, AddPasskey, Confirmation, CreateUserError, FactorStore, LimitStore, LinkStore,
    PasskeyStore, SessionStore, StoreError, StoreResult, UserStore, WriteOutcome,
};
pub use trail::{ActivityRecord, OutboxEvent, Trail, is_activity_id};
