//! The DynamoDB store: passkeys (`USER#<key>` / `PASSKEY#<id>`, claimed by
//! `PASSKEY#<id>` / `PASSKEY`) and ceremonies (`CEREMONY#<id>` / `CEREMONY`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, ReturnValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::items::{Item, LIVE_PROFILE, PROFILE_SK, s};
use super::*;
use crate::domain::passkey::StoredCredential;
use crate::ports::{AddPasskey, CeremonyKind, CeremonyRecord, PasskeyRecord, PasskeyStore};

/// A passkey in its account's partition.
#[derive(Serialize, Deserialize)]
pub(super) struct PasskeyItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) account_id: AccountId,
    pub(super) name: String,
    pub(super) created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_used_at: Option<i64>,
    pub(super) static_state: String,
    pub(super) dynamic_state: String,
    pub(super) transports: u8,
    #[serde(default)]
    pub(super) since: u64,
}

/// The claim on a credential id: which account has it.
#[derive(Serialize, Deserialize)]
struct ClaimItem {
    pk: String,
    sk: String,
    username_key: String,
    account_id: AccountId,
}

#[derive(Serialize, Deserialize)]
struct CeremonyItem {
    pk: String,
    sk: String,
    kind: CeremonyKind,
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<AccountId>,
    expires_at: i64,
}

pub(super) const PASSKEY_PREFIX: &str = "PASSKEY#";

pub(super) fn passkey_sk(id: &str) -> String {
    format!("{PASSKEY_PREFIX}{id}")
}
pub(super) fn claim_key(id: &str) -> Item {
    key(format!("{PASSKEY_PREFIX}{id}"), "PASSKEY")
}
fn ceremony_key(id: &str) -> Item {
    key(format!("CEREMONY#{id}"), "CEREMONY")
}

fn ceremony_record(id: &str, item: Item) -> StoreResult<CeremonyRecord> {
    let item: CeremonyItem = from_item(item)?;
    let state = URL_SAFE_NO_PAD
        .decode(&item.state)
        .map_err(|e| crate::ports::StoreError::Internal(anyhow::anyhow!("ceremony state: {e}")))?;
    Ok(CeremonyRecord {
        id: id.to_owned(),
        kind: item.kind,
        state,
        account: match (item.username_key, item.account_id) {
            (Some(u), Some(a)) => Some((Username::from_stored(u), a)),
            _ => None,
        },
        expires_at: item.expires_at,
    })
}

impl PasskeyItem {
    pub(super) fn into_record(self, username: &Username) -> Option<PasskeyRecord> {
        let id = self.sk.strip_prefix(PASSKEY_PREFIX)?.to_owned();
        Some(PasskeyRecord {
            username: username.clone(),
            account_id: self.account_id,
            credential: StoredCredential {
                id,
                static_state: self.static_state,
                dynamic_state: self.dynamic_state,
                transports: self.transports,
            },
            name: self.name,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            since: self.since,
        })
    }
}

#[async_trait]
impl PasskeyStore for DynamoStore {
    async fn put_ceremony(&self, ceremony: &CeremonyRecord) -> StoreResult<bool> {
        let [pk, sk] = ["pk", "sk"].map(|k| {
            ceremony_key(&ceremony.id)
                .get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        });
        let item = to_item(&CeremonyItem {
            pk,
            sk,
            kind: ceremony.kind,
            state: URL_SAFE_NO_PAD.encode(&ceremony.state),
            username_key: ceremony.account.as_ref().map(|(u, _)| u.key().to_owned()),
            account_id: ceremony.account.as_ref().map(|(_, a)| a.clone()),
            expires_at: ceremony.expires_at,
        })?;
        let Some((username, account)) = &ceremony.account else {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| sdk_err("PutItem", e))?;
            return Ok(true);
        };
        // A ceremony of an account only while the account exists.
        let items = vec![
            self.account_check(username, account)?,
            self.put(item, None)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    async fn take_ceremony(&self, id: &str, now: i64) -> StoreResult<Option<CeremonyRecord>> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ceremony_key(id)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_err("DeleteItem", e))?;
        let Some(old) = out.attributes.filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(ceremony_record(id, old)?).filter(|c| c.expires_at > now))
    }

    async fn ceremony(&self, id: &str, now: i64) -> StoreResult<Option<CeremonyRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(ceremony_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", e))?;
        Ok(match out.item {
            Some(item) => Some(ceremony_record(id, item)?).filter(|c| c.expires_at > now),
            None => None,
        })
    }

    async fn add_passkey(
        &self,
        user: &UserRecord,
        passkey: &PasskeyRecord,
        ceremony: &str,
    ) -> StoreResult<AddPasskey> {
        let id = &passkey.credential.id;
        let (condition, value) = same_account(&user.account_id);
        let mut values = with_account(HashMap::new(), value).unwrap_or_default();
        values.insert(":changes".to_owned(), n(user.email_changes));
        let changes = super::items::counter_equals("email_changes", ":changes", user.email_changes);
        let check = build(
            "ConditionCheck",
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
                .condition_expression(format!("{LIVE_PROFILE} AND {condition} AND {changes}"))
                .set_expression_attribute_values(Some(values))
                .build(),
        )?;
        let consume = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(ceremony_key(ceremony)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let item = to_item(&PasskeyItem {
            pk: user_pk(&user.username),
            sk: passkey_sk(id),
            account_id: user.account_id.clone(),
            name: passkey.name.clone(),
            created_at: passkey.created_at,
            last_used_at: None,
            static_state: passkey.credential.static_state.clone(),
            dynamic_state: passkey.credential.dynamic_state.clone(),
            transports: passkey.credential.transports,
            since: passkey.since,
        })?;
        let claim_pk = format!("{PASSKEY_PREFIX}{id}");
        let claim = to_item(&ClaimItem {
            pk: claim_pk,
            sk: "PASSKEY".to_owned(),
            username_key: user.username.key().to_owned(),
            account_id: user.account_id.clone(),
        })?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            self.put(item, None)?,
            self.put(claim, Some("attribute_not_exists(pk)"))?,
            TransactWriteItem::builder().delete(consume).build(),
        ];
        items.extend(self.trail_items(
            user,
            Some(ActivityKind::PasskeyAdded),
            Some(EventKind::PasskeyAdded),
        )?);
        match self.transact(items).await {
            Ok(()) => Ok(AddPasskey::Added),
            Err(err) => match cancelled_conditions(&err) {
                Some(c) if c.first() == Some(&true) => Ok(AddPasskey::Stale),
                Some(c) if c.get(2) == Some(&true) => Ok(AddPasskey::Taken),
                Some(c) if c.get(3) == Some(&true) => Ok(AddPasskey::CeremonyGone),
                _ => Err(sdk_err("TransactWriteItems", err)),
            },
        }
    }

    async fn passkey_by_id(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<(UserRecord, PasskeyRecord)>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(claim_key(credential_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem", e))?;
        let Some(claim) = out.item else {
            return Ok(None);
        };
        let claim: ClaimItem = from_item(claim)?;
        let username = Username::from_stored(claim.username_key);
        let mut user = None;
        let mut passkey = None;
        for item in self
            .batch_get(vec![
                key(user_pk(&username), PROFILE_SK),
                key(user_pk(&username), passkey_sk(credential_id)),
            ])
            .await?
        {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            if sk.as_deref() == Some(PROFILE_SK) {
                user = self.unless_deleting(from_item::<UserItem>(item)?).await?;
            } else {
                passkey = from_item::<PasskeyItem>(item)?.into_record(&username);
            }
        }
        Ok(match (user, passkey) {
            (Some(u), Some(p))
                if u.account_id == claim.account_id && p.account_id == u.account_id =>
            {
                Some((u, p))
            }
            _ => None,
        })
    }

    async fn passkeys_of(&self, username: &Username) -> StoreResult<Vec<PasskeyRecord>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(user_pk(username)))
            .expression_attribute_values(":prefix", s(PASSKEY_PREFIX))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut list = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| sdk_err("Query", e))?;
            if let Some(p) = from_item::<PasskeyItem>(item)?.into_record(username) {
                list.push(p);
            }
        }
        list.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.credential.id.cmp(&b.credential.id))
        });
        Ok(list)
    }

    async fn passkey_used(
        &self,
        passkey: &PasskeyRecord,
        dynamic_state: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                user_pk(&passkey.username),
                passkey_sk(&passkey.credential.id),
            )))
            .update_expression("SET dynamic_state = :new, last_used_at = :now")
            .condition_expression("attribute_exists(pk) AND dynamic_state = :old")
            .expression_attribute_values(":new", s(dynamic_state))
            .expression_attribute_values(":old", s(&passkey.credential.dynamic_state))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        Ok(conditional("UpdateItem", out)?.is_some())
    }

    async fn remove_passkey(&self, user: &UserRecord, credential_id: &str) -> StoreResult<bool> {
        let (account, value) = same_account(&user.account_id);
        let own = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(
                    user_pk(&user.username),
                    passkey_sk(credential_id),
                )))
                .condition_expression(format!("attribute_exists(pk) AND {account}"))
                .set_expression_attribute_values(
                    value.map(|v| HashMap::from([(":account".to_owned(), v)])),
                )
                .build(),
        )?;
        let claim = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(claim_key(credential_id)))
                .condition_expression("username_key = :k")
                .expression_attribute_values(":k", s(user.username.key()))
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().delete(own).build(),
            TransactWriteItem::builder().delete(claim).build(),
            // Nothing is written into an account being deleted.
            self.account_check(&user.username, &user.account_id)?,
        ];
        items.extend(self.trail_items(
            user,
            Some(ActivityKind::PasskeyRemoved),
            Some(EventKind::PasskeyRemoved),
        )?);
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }
}
