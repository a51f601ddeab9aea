//! The DynamoDB adapter: one table, `pk`/`sk` string keys, `expires_at` TTL.
//!
//! | pk | sk | item |
//! |---|---|---|
//! | `USER#<username key>` | `PROFILE` | the user |
//! | `USER#<username key>` | `SESSION#<sid>` | one session |
//! | `EMAIL#<email key>` | `EMAIL` | uniqueness guard |
//! | `TOKEN#<sha256>` | `TOKEN` | one-time token |
//! | `RATE#login#<username key>` | `FAILS` | failed-login run |
//! | `RATE#<scope>#<key>` | `<window start>` | fixed-window counter |
//!
//! Expiry is always checked in code too: TTL deletes late (up to days).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, DeleteRequest, KeySchemaElement,
    KeyType, KeysAndAttributes, Put, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update, WriteRequest,
};
use serde::{Deserialize, Serialize};

use crate::domain::{LoginFailures, RateCap, TokenHash};
use crate::ports::{
    CreateUserError, SessionRecord, StoreError, StoreResult, TokenPurpose, TokenRecord, UserRecord,
    UserStore,
};

type Item = HashMap<String, AttributeValue>;

/// The name of the TTL attribute (epoch seconds, Number).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Users, sessions, tokens and counters in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

#[derive(Serialize, Deserialize)]
struct UserItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    user: UserRecord,
}

#[derive(Serialize, Deserialize)]
struct EmailItem {
    pk: String,
    sk: String,
    username_key: String,
    created_at: i64,
}

#[derive(Serialize, Deserialize)]
struct SessionItem {
    pk: String,
    sk: String,
    created_at: i64,
    expires_at: i64,
    #[serde(default)]
    reset_epoch: u64,
}

#[derive(Serialize, Deserialize)]
struct TokenItem {
    pk: String,
    sk: String,
    purpose: TokenPurpose,
    username_key: String,
    expires_at: i64,
    #[serde(default)]
    epoch: u64,
}

#[derive(Serialize, Deserialize)]
struct FailuresItem {
    n: u32,
    last_at: i64,
    expires_at: i64,
}

fn user_pk(username_key: &str) -> String {
    format!("USER#{username_key}")
}
const PROFILE_SK: &str = "PROFILE";
fn session_sk(sid: &str) -> String {
    format!("SESSION#{sid}")
}
fn email_pk(email_key: &str) -> String {
    format!("EMAIL#{email_key}")
}
const EMAIL_SK: &str = "EMAIL";
fn token_pk(hash: &TokenHash) -> String {
    format!("TOKEN#{}", hash.as_str())
}
const TOKEN_SK: &str = "TOKEN";
fn failures_pk(username_key: &str) -> String {
    format!("RATE#login#{username_key}")
}
const FAILURES_SK: &str = "FAILS";

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk.into())),
    ])
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn to_item<T: Serialize>(value: &T) -> StoreResult<Item> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("encode item: {e}")))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> StoreResult<T> {
    serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("decode item: {e}")))
}

fn build<T>(what: &str, r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> StoreResult<T> {
    r.map_err(|e| StoreError::Internal(anyhow::anyhow!("build {what}: {e}")))
}

/// Maps an SDK failure: throttling, contention, timeouts and a dead endpoint
/// are "try again" (503); everything else is a bug or misconfiguration (500).
fn sdk_err<E, R>(op: &'static str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = crate::adapters::aws::is_transient(&err);
    let cause = anyhow::anyhow!("DynamoDB {op}: {}", DisplayErrorContext(&err));
    if transient {
        StoreError::Unavailable(cause)
    } else {
        StoreError::Internal(cause)
    }
}

/// `Some(output)` on success, `None` when the write's condition failed.
fn conditional<T, E, R>(
    op: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> StoreResult<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(None),
        Err(e) => Err(sdk_err(op, e)),
    }
}

/// Whether a transaction was cancelled only because a concurrent one touched its items.
fn conflicted<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    match err.as_service_error() {
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .any(|r| r.code() == Some("TransactionConflict")),
        _ => false,
    }
}

/// Which items of a cancelled transaction failed their condition.
fn cancelled_conditions<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Vec<bool>> {
    match err.as_service_error() {
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

impl DynamoStore {
    /// A store on `table` through `client` (built once per cold start).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates the table with the template's key schema and TTL setting if it
    /// does not exist (for local use: production tables come from template.yaml).
    pub async fn ensure_table(&self) -> anyhow::Result<()> {
        let exists = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await;
        match exists {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(e) => anyhow::bail!("describe table: {}", DisplayErrorContext(&e)),
        }
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .send()
            .await;
        if let Err(e) = created {
            // Another process may have created it meanwhile.
            if !e
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception())
            {
                anyhow::bail!("create table: {}", DisplayErrorContext(&e));
            }
        }
        for _ in 0..50 {
            let table = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await;
            let active = table
                .ok()
                .and_then(|t| t.table)
                .and_then(|t| t.table_status)
                .is_some_and(|s| s == aws_sdk_dynamodb::types::TableStatus::Active);
            if active {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("enable TTL: {}", DisplayErrorContext(&e)))?;
        Ok(())
    }

    fn put(&self, item: Item, condition: Option<&str>) -> StoreResult<TransactWriteItem> {
        let put = build(
            "Put",
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// In one transaction: consume a live token (still owned by its user) and
    /// apply `update` to that user. `false` when either condition failed,
    /// including a token of another purpose.
    async fn consume_token_and_update(
        &self,
        token: &TokenRecord,
        purpose: TokenPurpose,
        now: i64,
        update: Update,
    ) -> StoreResult<bool> {
        let consume = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(token_pk(&token.hash), TOKEN_SK)))
                .condition_expression(format!("{} AND username_key = :k", live_token_condition()))
                .expression_attribute_values(":purpose", purpose_value(purpose))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":k", s(&token.username_key))
                .build(),
        )?;
        let out = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(consume).build())
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(err) => match cancelled_conditions(&err) {
                Some(c) if c.contains(&true) => Ok(false),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
    }

    /// One item by key, strongly consistent.
    async fn get(&self, item_key: Item) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", e))?;
        Ok(out.item)
    }

    async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut pending = Some(build(
            "KeysAndAttributes",
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build(),
        )?);
        let mut found = Vec::new();
        for attempt in 0..4u32 {
            let Some(request) = pending.take() else { break };
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| sdk_err("BatchGetItem", e))?;
            if let Some(mut responses) = out.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys().is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "DynamoDB BatchGetItem: keys left unprocessed"
            )));
        }
        Ok(found)
    }

    async fn batch_delete(&self, keys: Vec<Item>) -> StoreResult<()> {
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|k| {
                    build(
                        "DeleteRequest",
                        DeleteRequest::builder().set_key(Some(k.clone())).build(),
                    )
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<StoreResult<Vec<_>>>()?;
            for attempt in 0..5u32 {
                if requests.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut requests))
                    .send()
                    .await
                    .map_err(|e| sdk_err("BatchWriteItem", e))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
            }
            if !requests.is_empty() {
                return Err(StoreError::Unavailable(anyhow::anyhow!(
                    "DynamoDB BatchWriteItem: items left unprocessed"
                )));
            }
        }
        Ok(())
    }

    /// Deletes every session and the failed-login run of a user; returns the
    /// profile, read by the same query.
    async fn end_sessions(&self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        let mut user = None;
        let mut doomed = vec![key(failures_pk(username_key), FAILURES_SK)];
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(user_pk(username_key)))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Query", e))?;
            for item in page.items.unwrap_or_default() {
                let sk = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                if sk == PROFILE_SK {
                    user = Some(from_item::<UserItem>(item)?.user);
                } else if sk.starts_with("SESSION#") {
                    doomed.push(key(user_pk(username_key), sk));
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        self.batch_delete(doomed).await?;
        Ok(user)
    }

    fn counter_update(&self, cap: &RateCap) -> StoreResult<Update> {
        build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(counter_key(cap)))
                .update_expression(COUNTER_UPDATE)
                .condition_expression(COUNTER_CONDITION)
                .set_expression_attribute_values(Some(counter_values(cap)))
                .build(),
        )
    }
}

fn live_token_condition() -> &'static str {
    "attribute_exists(pk) AND purpose = :purpose AND expires_at > :now"
}

fn purpose_value(purpose: TokenPurpose) -> AttributeValue {
    match purpose {
        TokenPurpose::Confirm => s("confirm"),
        TokenPurpose::Reset => s("reset"),
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> Result<(), CreateUserError> {
        let key = user.key();
        let new = Some("attribute_not_exists(pk)");
        let items = vec![
            self.put(
                to_item(&UserItem {
                    pk: user_pk(&key),
                    sk: PROFILE_SK.into(),
                    user: user.clone(),
                })?,
                new,
            )?,
            self.put(
                to_item(&EmailItem {
                    pk: email_pk(&user.email_key()),
                    sk: EMAIL_SK.into(),
                    username_key: key.clone(),
                    created_at: user.created_at,
                })?,
                new,
            )?,
            self.put(token_item(confirm)?, new)?,
        ];
        // Two registrations racing for one name or address can make DynamoDB
        // cancel one with TransactionConflict instead of failing its condition:
        // try again, and the loser then sees the winner's item (409 or notice).
        let mut attempt = 0;
        loop {
            attempt += 1;
            let out = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let Err(err) = out else { return Ok(()) };
            match cancelled_conditions(&err).as_deref() {
                Some([true, ..]) => return Err(CreateUserError::UsernameTaken),
                Some([false, true, ..]) => return Err(CreateUserError::EmailTaken),
                _ if attempt < 3 && conflicted(&err) => {
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                _ => return Err(sdk_err("TransactWriteItems", err).into()),
            }
        }
    }

    async fn delete_unverified_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> StoreResult<()> {
        let key_ = user.key();
        let delete = |k: Item, condition: Option<&str>, values: Vec<(&str, AttributeValue)>| {
            let mut b = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(k))
                .set_condition_expression(condition.map(str::to_owned));
            for (name, value) in values {
                b = b.expression_attribute_values(name, value);
            }
            build("Delete", b.build()).map(|d| TransactWriteItem::builder().delete(d).build())
        };
        let items = vec![
            delete(
                key(user_pk(&key_), PROFILE_SK),
                Some("is_email_verified = :f AND created_at = :c"),
                vec![
                    (":f", AttributeValue::Bool(false)),
                    (":c", n(user.created_at)),
                ],
            )?,
            delete(
                key(email_pk(&user.email_key()), EMAIL_SK),
                Some("username_key = :k"),
                vec![(":k", s(key_.clone()))],
            )?,
            delete(key(token_pk(&confirm.hash), TOKEN_SK), None, vec![])?,
        ];
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Someone else's account (or already confirmed): leave it alone.
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(()),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn get_user(&self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        self.get(key(user_pk(username_key), PROFILE_SK))
            .await?
            .map(|item| from_item::<UserItem>(item).map(|u| u.user))
            .transpose()
    }

    async fn login_state(
        &self,
        username_key: &str,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, LoginFailures)> {
        let items = self
            .batch_get(vec![
                key(user_pk(username_key), PROFILE_SK),
                key(failures_pk(username_key), FAILURES_SK),
            ])
            .await?;
        let mut user = None;
        let mut failures = LoginFailures::default();
        for item in items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            match sk.as_deref() {
                Some(PROFILE_SK) => user = Some(from_item::<UserItem>(item)?.user),
                Some(FAILURES_SK) => {
                    let f: FailuresItem = from_item(item)?;
                    if f.expires_at > now {
                        failures = LoginFailures {
                            count: f.n,
                            last_at: f.last_at,
                        };
                    }
                }
                _ => {}
            }
        }
        Ok((user, failures))
    }

    async fn claim_login_attempt(
        &self,
        username_key: &str,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<bool> {
        // Compare-and-set on the run as login_state saw it: a missing or
        // expired run (TTL deletes late) counts as zero.
        let unchanged = if seen.count == 0 {
            "attribute_not_exists(pk) OR expires_at <= :now"
        } else {
            "n = :n AND last_at = :last AND expires_at > :now"
        };
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(failures_pk(username_key), FAILURES_SK)))
            .update_expression("SET n = :next, last_at = :now, expires_at = :exp")
            .condition_expression(unchanged)
            .set_expression_attribute_values(Some(if seen.count == 0 {
                HashMap::from([
                    (":next".to_owned(), n(1)),
                    (":now".to_owned(), n(now)),
                    (":exp".to_owned(), n(expires_at)),
                ])
            } else {
                HashMap::from([
                    (":n".to_owned(), n(seen.count)),
                    (":last".to_owned(), n(seen.last_at)),
                    (":next".to_owned(), n(seen.count.saturating_add(1))),
                    (":now".to_owned(), n(now)),
                    (":exp".to_owned(), n(expires_at)),
                ])
            }))
            .send()
            .await;
        Ok(conditional("UpdateItem", claimed)?.is_some())
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        clear_failures: bool,
    ) -> StoreResult<()> {
        let item = to_item(&SessionItem {
            pk: user_pk(&session.username_key),
            sk: session_sk(&session.sid),
            created_at: session.created_at,
            expires_at: session.expires_at,
            reset_epoch: session.reset_epoch,
        })?;
        if clear_failures {
            let delete = build(
                "Delete",
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(failures_pk(&session.username_key), FAILURES_SK)))
                    .build(),
            )?;
            self.client
                .transact_write_items()
                .transact_items(self.put(item, None)?)
                .transact_items(TransactWriteItem::builder().delete(delete).build())
                .send()
                .await
                .map_err(|e| sdk_err("TransactWriteItems", e))?;
        } else {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| sdk_err("PutItem", e))?;
        }
        Ok(())
    }

    async fn session_user(
        &self,
        username_key: &str,
        sid: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        let items = self
            .batch_get(vec![
                key(user_pk(username_key), PROFILE_SK),
                key(user_pk(username_key), session_sk(sid)),
            ])
            .await?;
        let mut user: Option<UserRecord> = None;
        let mut session: Option<SessionItem> = None;
        for item in items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            if sk.as_deref() == Some(PROFILE_SK) {
                user = Some(from_item::<UserItem>(item)?.user);
            } else {
                session = Some(from_item(item)?);
            }
        }
        let live = |s: &SessionItem| s.expires_at > now;
        Ok(match (user, session) {
            (Some(u), Some(s)) if live(&s) && s.reset_epoch == u.reset_epoch => Some(u),
            _ => None,
        })
    }

    async fn delete_session(&self, username_key: &str, sid: &str, now: i64) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(username_key), session_sk(sid))))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        Ok(conditional("DeleteItem", out)?.is_some())
    }

    async fn put_token(&self, token: &TokenRecord, cap: Option<&RateCap>) -> StoreResult<bool> {
        let item = token_item(token)?;
        let Some(cap) = cap else {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map_err(|e| sdk_err("PutItem", e))?;
            return Ok(true);
        };
        let out = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(self.counter_update(cap)?)
                    .build(),
            )
            .transact_items(self.put(item, Some("attribute_not_exists(pk)"))?)
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(err) => match cancelled_conditions(&err).as_deref() {
                Some([true, ..]) => Ok(false),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
    }

    async fn get_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: i64,
    ) -> StoreResult<Option<TokenRecord>> {
        let Some(item) = self.get(key(token_pk(hash), TOKEN_SK)).await? else {
            return Ok(None);
        };
        let t: TokenItem = from_item(item)?;
        Ok(
            (t.purpose == purpose && t.expires_at > now).then(|| TokenRecord {
                hash: hash.clone(),
                purpose: t.purpose,
                username_key: t.username_key,
                expires_at: t.expires_at,
                epoch: t.epoch,
            }),
        )
    }

    async fn confirm_email(&self, hash: &TokenHash, now: i64) -> StoreResult<bool> {
        // Read the token for its owner, then consume it and verify the email
        // in one transaction: a failure leaves both as they were.
        let Some(token) = self.get_token(hash, TokenPurpose::Confirm, now).await? else {
            return Ok(false);
        };
        let verify = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&token.username_key), PROFILE_SK)))
                .update_expression("SET is_email_verified = :t")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":t", AttributeValue::Bool(true))
                .build(),
        )?;
        self.consume_token_and_update(&token, TokenPurpose::Confirm, now, verify)
            .await
    }

    async fn reset_password(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        let username_key = token.username_key.as_str();
        // Users stored before reset epochs existed have no attribute: epoch 0.
        let same_epoch = if token.epoch == 0 {
            "(attribute_not_exists(reset_epoch) OR reset_epoch = :e)"
        } else {
            "reset_epoch = :e"
        };
        let update = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username_key), PROFILE_SK)))
                .update_expression(
                    "SET password_hash = :h, is_email_verified = :t, reset_epoch = :next",
                )
                .condition_expression(format!("attribute_exists(pk) AND {same_epoch}"))
                .expression_attribute_values(":h", s(password_hash))
                .expression_attribute_values(":t", AttributeValue::Bool(true))
                .expression_attribute_values(":e", n(token.epoch))
                .expression_attribute_values(":next", n(token.epoch + 1))
                .build(),
        )?;
        if !self
            .consume_token_and_update(token, TokenPurpose::Reset, now, update)
            .await?
        {
            return Ok(None);
        }
        // The password is changed and old sessions are already dead (their
        // reset epoch is stale); deleting them is cleanup, so a failure here
        // is logged rather than turned into an error after the fact.
        match self.end_sessions(username_key).await {
            Ok(user) => Ok(user),
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "reset: session cleanup failed");
                self.get_user(username_key).await
            }
        }
    }

    async fn hit(&self, cap: &RateCap) -> StoreResult<bool> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(cap)))
            .update_expression(COUNTER_UPDATE)
            .condition_expression(COUNTER_CONDITION)
            .set_expression_attribute_values(Some(counter_values(cap)))
            .send()
            .await;
        Ok(conditional("UpdateItem", out)?.is_some())
    }
}

const COUNTER_UPDATE: &str = "SET n = if_not_exists(n, :zero) + :one, expires_at = :exp";
const COUNTER_CONDITION: &str = "attribute_not_exists(n) OR n < :limit";

fn counter_key(cap: &RateCap) -> Item {
    key(format!("RATE#{}", cap.key), cap.window_start.to_string())
}

fn counter_values(cap: &RateCap) -> Item {
    HashMap::from([
        (":zero".to_owned(), n(0)),
        (":one".to_owned(), n(1)),
        (":exp".to_owned(), n(cap.expires_at)),
        (":limit".to_owned(), n(cap.limit)),
    ])
}

fn token_item(token: &TokenRecord) -> StoreResult<Item> {
    to_item(&TokenItem {
        pk: token_pk(&token.hash),
        sk: TOKEN_SK.into(),
        purpose: token.purpose,
        username_key: token.username_key.clone(),
        expires_at: token.expires_at,
        epoch: token.epoch,
    })
}
