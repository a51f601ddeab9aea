//! Adapters: the ports implemented on real infrastructure (DynamoDB, SES,
//! the wall clock) and on local stand-ins (memory, an outbox folder, a
//! manual clock).

pub mod aws;
mod clock;
mod dynamo;
mod memory;
mod outbox;
mod secrets;
mod ses;

pub use clock::{ManualClock, SystemClock};
pub use dynamo::{DynamoStore, OUTBOX_PREFIX, TTL_ATTRIBUTE};
pub use memory::{MemoryContents, MemoryStore};
pub use outbox::{MailEntry, OutboxMailer};
pub use secrets::SecretsManagerKeys;
pub use ses::SesMailer;
