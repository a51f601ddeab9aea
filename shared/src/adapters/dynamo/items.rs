//! Items of the single table: one struct per kind, the key layout, and the
//! attribute-value helpers. `serde_dynamo` maps structs to items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::domain::{AccountId, EmailAddress, RateCap, SessionId, TokenHash, Username};
use crate::ports::{FailureRun, StoreError, StoreResult, TokenPurpose, TokenRecord, UserRecord};

/// An item as the SDK carries it.
pub(super) type Item = HashMap<String, AttributeValue>;

/// The name of the TTL attribute (epoch seconds, Number).
pub const TTL_ATTRIBUTE: &str = "expires_at";

#[derive(Serialize, Deserialize)]
pub(super) struct UserItem {
    pub(super) pk: String,
    pub(super) sk: String,
    #[serde(flatten)]
    pub(super) user: UserRecord,
    /// Set by a deletion before it deletes anything (see `delete_partition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) deleting: Option<bool>,
}

/// A confirmed address: which account holds it.
#[derive(Serialize, Deserialize)]
pub(super) struct EmailItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) username_key: String,
    pub(super) created_at: i64,
    #[serde(default, skip_serializing_if = "AccountId::is_legacy")]
    pub(super) account_id: AccountId,
}

#[derive(Serialize, Deserialize)]
pub(super) struct SessionItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
    #[serde(default)]
    pub(super) reset_epoch: u64,
    #[serde(default)]
    pub(super) account_id: AccountId,
    #[serde(default)]
    pub(super) remember: bool,
    #[serde(default)]
    pub(super) pwd_failures: u32,
    #[serde(default)]
    pub(super) session_epoch: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) device: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) amr: Vec<String>,
    #[serde(default)]
    pub(super) known_device: bool,
}

/// A one-time token: `TOKEN#<hash>`, and the same attributes under the
/// owner's partition (`USER#<key>` / `TOKEN#<hash>`), so that an account's
/// tokens can be listed and deleted with it.
#[derive(Serialize, Deserialize)]
pub(super) struct TokenItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) purpose: TokenPurpose,
    pub(super) username_key: String,
    pub(super) expires_at: i64,
    #[serde(default)]
    pub(super) epoch: u64,
    #[serde(default)]
    pub(super) account_id: AccountId,
    /// The address the link was mailed to (absent on tokens from before).
    #[serde(default)]
    pub(super) email: Option<EmailAddress>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct FailuresItem {
    pub(super) n: u32,
    pub(super) last_at: i64,
    pub(super) expires_at: i64,
}

pub(super) fn user_pk(username: &Username) -> String {
    format!("USER#{}", username.key())
}
pub(super) const PROFILE_SK: &str = "PROFILE";
/// The condition that a profile exists and is not being deleted: every
/// write made on behalf of an account carries it (with the account's id),
/// so that nothing is written for an account once its deletion began.
pub(super) const LIVE_PROFILE: &str = "attribute_exists(pk) AND attribute_not_exists(deleting)";
pub(super) fn session_sk(sid: &SessionId) -> String {
    format!("SESSION#{}", sid.as_str())
}
pub(super) fn email_pk(email: &EmailAddress) -> String {
    format!("EMAIL#{}", email.key())
}
pub(super) const EMAIL_SK: &str = "EMAIL";
pub(super) fn token_pk(hash: &TokenHash) -> String {
    format!("TOKEN#{}", hash.as_str())
}
pub(super) const TOKEN_SK: &str = "TOKEN";
/// The partition of a failure run (`RATE#login#<username key>`,
/// `RATE#device#<device id>`).
pub(super) fn run_pk(run: &FailureRun) -> String {
    format!("RATE#{}", run.key())
}
/// The partition of a username's failure run.
pub(super) fn failures_pk(username: &Username) -> String {
    run_pk(&FailureRun::Username(username.clone()))
}
pub(super) const FAILURES_SK: &str = "FAILS";

pub(super) fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk.into())),
    ])
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn to_item<T: Serialize>(value: &T) -> StoreResult<Item> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("encode item: {e}")))
}

pub(super) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> StoreResult<T> {
    serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("decode item: {e}")))
}

pub(super) fn live_token_condition() -> &'static str {
    "attribute_exists(pk) AND purpose = :purpose AND expires_at > :now"
}

pub(super) fn purpose_value(purpose: TokenPurpose) -> AttributeValue {
    match purpose {
        TokenPurpose::Confirm => s("confirm"),
        TokenPurpose::Reset => s("reset"),
        TokenPurpose::ChangeEmail => s("change_email"),
        TokenPurpose::RevertEmail => s("revert_email"),
    }
}

pub(super) const COUNTER_UPDATE: &str = "SET n = if_not_exists(n, :zero) + :one, expires_at = :exp";
pub(super) const COUNTER_CONDITION: &str = "attribute_not_exists(n) OR n < :limit";

pub(super) fn counter_key(cap: &RateCap) -> Item {
    // A part is counted beside its key's counter, in its partition (so a
    // query of the partition finds it): sort key `<window>#<part>`.
    let sk = match &cap.part {
        Some(part) => format!("{}#{part}", cap.window_start),
        None => cap.window_start.to_string(),
    };
    key(format!("RATE#{}", cap.key), sk)
}

pub(super) fn counter_values(cap: &RateCap) -> Item {
    HashMap::from([
        (":zero".to_owned(), n(0)),
        (":one".to_owned(), n(1)),
        (":exp".to_owned(), n(cap.expires_at)),
        (":limit".to_owned(), n(cap.limit)),
    ])
}

/// The sort key of a token's reference in its owner's partition.
pub(super) fn token_ref_sk(hash: &TokenHash) -> String {
    format!("TOKEN#{}", hash.as_str())
}

pub(super) fn token_item(token: &TokenRecord) -> StoreResult<Item> {
    token_item_at(token, token_pk(&token.hash), TOKEN_SK.into())
}

/// The token's reference under its owner's partition.
pub(super) fn token_ref_item(token: &TokenRecord) -> StoreResult<Item> {
    token_item_at(token, user_pk(&token.username), token_ref_sk(&token.hash))
}

impl TokenItem {
    /// The record this item holds, for the token `hash`; `None` for a token
    /// from before tokens named their address (it proves no mailbox).
    pub(super) fn into_record(self, hash: TokenHash) -> Option<TokenRecord> {
        Some(TokenRecord {
            hash,
            purpose: self.purpose,
            username: Username::from_stored(self.username_key),
            account_id: self.account_id,
            email: self.email?,
            expires_at: self.expires_at,
            epoch: self.epoch,
        })
    }
}

fn token_item_at(token: &TokenRecord, pk: String, sk: String) -> StoreResult<Item> {
    to_item(&TokenItem {
        pk,
        sk,
        purpose: token.purpose,
        username_key: token.username.key().to_owned(),
        expires_at: token.expires_at,
        epoch: token.epoch,
        account_id: token.account_id.clone(),
        email: Some(token.email.clone()),
    })
}

/// The condition that the counter `attribute` equals `value` (bound to
/// `placeholder`); items stored before the attribute existed count as 0.
pub(super) fn counter_equals(attribute: &str, placeholder: &str, value: u64) -> String {
    if value == 0 {
        format!("(attribute_not_exists({attribute}) OR {attribute} = {placeholder})")
    } else {
        format!("{attribute} = {placeholder}")
    }
}

/// The condition that a profile is `account`'s, and the value it needs (a
/// profile stored before accounts had ids has none).
pub(super) fn same_account(account: &AccountId) -> (&'static str, Option<AttributeValue>) {
    if account.is_legacy() {
        ("attribute_not_exists(account_id)", None)
    } else {
        ("account_id = :account", Some(s(account.as_str())))
    }
}

/// `values`, plus `:account` when the account condition needs it.
pub(super) fn with_account(mut values: Item, account: Option<AttributeValue>) -> Option<Item> {
    if let Some(v) = account {
        values.insert(":account".to_owned(), v);
    }
    Some(values)
}
