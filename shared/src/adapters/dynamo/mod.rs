//! The DynamoDB adapter: one table, `pk`/`sk` string keys, `expires_at` TTL.
//!
//! | pk | sk | item |
//! |---|---|---|
//! | `USER#<username key>` | `PROFILE` | the user |
//! | `USER#<username key>` | `SESSION#<sid>` | one session |
//! | `USER#<username key>` | `MFA#<sha256>` | a sign-in waiting for its second factor |
//! | `USER#<username key>` | `PASSKEY#<credential id>` | one passkey |
//! | `PASSKEY#<credential id>` | `PASSKEY` | the account that has that credential |
//! | `CEREMONY#<id>` | `CEREMONY` | a WebAuthn ceremony waiting for its answer |
//! | `EMAIL#<email key>` | `EMAIL` | the account that confirmed the address |
//! | `TOKEN#<sha256>` | `TOKEN` | one-time token |
//! | `RATE#login#<username key>` | `FAILS` | failed-login run of clients without a device token |
//! | `RATE#device#<device id>` | `FAILS` | failed-login run of one device |
//! | `RATE#<scope>#<key>` | `<window start>` | fixed-window counter |
//! | `USER#<username key>` | `ACTIVITY#<id>` | one item of security activity |
//! | `OUTBOX#<id>` | `OUTBOX` | an account event for the stream (inserts only) |
//!
//! Expiry is always checked in code too: TTL deletes late (up to days).

mod account;
mod batch;
mod capped;
mod challenge_item;
mod email_change;
mod errors;
mod items;
mod port_accounts;
mod port_factors;
mod port_limits;
mod port_links;
mod port_passkeys;
mod port_sessions;
mod runs;
mod sessions;
mod table;
mod trail;
mod transact;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};

use self::errors::{build, cancelled_conditions, conditional, sdk_err};
use self::items::{
    COUNTER_CONDITION, COUNTER_UPDATE, EMAIL_SK, EmailItem, PROFILE_SK, TOKEN_SK, TokenItem,
    UserItem, counter_key, counter_values, email_pk, from_item, key, n, same_account, session_sk,
    to_item, token_item, token_pk, token_ref_item, token_ref_sk, user_pk, with_account,
};
use crate::domain::activity::{ActivityKind, EventKind};
use crate::domain::{
    AccountId, DeviceId, EmailAddress, LoginFailures, RateCap, SessionId, TokenHash, Username,
};
use crate::ports::{
    AccountData, ActivityRecord, Confirmation, CreateUserError, FailureRun, LoginState,
    PendingEmail, SessionRecord, StoreResult, TokenPurpose, TokenRecord, UserRecord, WriteOutcome,
};

pub use self::items::TTL_ATTRIBUTE;
pub use self::trail::OUTBOX_PREFIX;

/// Users, sessions, tokens and counters in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client` (built once per cold start).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}
