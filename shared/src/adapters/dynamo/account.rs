//! A user's partition as a whole: read it (profile, sessions, token
//! references), edit the profile, change the password, delete the account.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem, Update};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, conditional, sdk_err};
use super::items::{
    EMAIL_SK, FAILURES_SK, Item, LIVE_PROFILE, PROFILE_SK, SessionItem, TOKEN_SK, TokenItem,
    UserItem, counter_equals, email_pk, failures_pk, from_item, key, n, s, same_account,
    session_sk, token_pk, user_pk, with_account,
};
use crate::domain::activity::{ActivityKind, EventKind};
use crate::domain::{SessionId, TokenHash, Username};
use crate::ports::{AccountData, SessionRecord, StoreResult, USER_COUNTER_SCOPES, UserRecord};

impl DynamoStore {
    /// Every item of one partition, by one consistent query (paginated).
    async fn query_partition(&self, pk: String) -> StoreResult<Vec<Item>> {
        self.query_partition_after(pk, None).await
    }

    /// The items of one partition whose sort key comes after `after`.
    async fn query_partition_after(
        &self,
        pk: String,
        after: Option<&str>,
    ) -> StoreResult<Vec<Item>> {
        let mut values = HashMap::from([(":pk".to_owned(), s(pk))]);
        let condition = match after {
            Some(after) => {
                values.insert(":after".to_owned(), s(after));
                "pk = :pk AND sk > :after"
            }
            None => "pk = :pk",
        };
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut items = Vec::new();
        while let Some(item) = pages.next().await {
            items.push(item.map_err(|e| sdk_err("Query", e))?);
        }
        Ok(items)
    }

    pub(super) async fn partition(&self, username: &Username) -> StoreResult<Option<AccountData>> {
        let mut user = None;
        let mut sessions = Vec::new();
        let mut tokens = Vec::new();
        let mut mfa_challenges = Vec::new();
        let mut passkeys = Vec::new();
        // The activity sorts first and is not part of it (it is read by
        // pages, on its own).
        let items = self
            .query_partition_after(user_pk(username), Some(super::trail::AFTER_ACTIVITY))
            .await?;
        for item in items {
            let sk = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if sk == PROFILE_SK {
                user = Some(from_item::<UserItem>(item)?.user);
            } else if let Some(sid) = sk.strip_prefix("SESSION#") {
                let s: SessionItem = from_item(item)?;
                sessions.push(SessionRecord {
                    username: username.clone(),
                    account_id: s.account_id,
                    sid: SessionId::from_stored(sid.to_owned()),
                    reset_epoch: s.reset_epoch,
                    created_at: s.created_at,
                    expires_at: s.expires_at,
                    remember: s.remember,
                    pwd_failures: s.pwd_failures,
                    session_epoch: s.session_epoch,
                    device: s.device,
                    amr: s.amr,
                    known_device: s.known_device,
                });
            } else if let Some(hash) = sk.strip_prefix("TOKEN#") {
                let hash = TokenHash::from_stored(hash.to_owned());
                if let Some(t) = from_item::<TokenItem>(item)?.into_record(hash) {
                    tokens.push(t);
                }
            } else if let Some(hash) = sk.strip_prefix("MFA#") {
                mfa_challenges.push(hash.to_owned());
            } else if sk.starts_with(super::port_passkeys::PASSKEY_PREFIX) {
                let item: super::port_passkeys::PasskeyItem = from_item(item)?;
                passkeys.extend(item.into_record(username));
            }
        }
        Ok(user.map(|user| AccountData {
            user,
            sessions,
            tokens,
            mfa_challenges,
            passkeys,
        }))
    }

    pub(super) async fn write_profile(&self, user: &UserRecord) -> StoreResult<Option<UserRecord>> {
        let (account, account_value) = same_account(&user.account_id);
        let optional = |v: &Option<String>| match v {
            Some(v) => s(v.as_str()),
            None => AttributeValue::Null(true),
        };
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
            .update_expression("SET full_name = :f, phone = :p, contacts = :c")
            .condition_expression(format!("{LIVE_PROFILE} AND {account}"))
            .set_expression_attribute_values(with_account(
                HashMap::from([
                    (":f".to_owned(), s(user.full_name.as_str())),
                    (":p".to_owned(), optional(&user.phone)),
                    (":c".to_owned(), optional(&user.contacts)),
                ]),
                account_value,
            ))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        conditional("UpdateItem", out)?
            .and_then(|out| out.attributes)
            .map(|item| from_item::<UserItem>(item).map(|u| u.user))
            .transpose()
    }

    pub(super) async fn set_password(
        &self,
        user: &UserRecord,
        password_hash: &str,
        keep: &SessionId,
    ) -> StoreResult<bool> {
        let username = &user.username;
        let (account, account_value) = same_account(&user.account_id);
        let epoch = counter_equals("reset_epoch", ":e", user.reset_epoch);
        let profile = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), PROFILE_SK)))
                .update_expression(
                    "SET password_hash = :h, reset_epoch = :next, device_epoch = :de \
                     REMOVE pending_email",
                )
                .condition_expression(format!("{LIVE_PROFILE} AND {epoch} AND {account}"))
                .set_expression_attribute_values(with_account(
                    HashMap::from([
                        (":h".to_owned(), s(password_hash)),
                        (":e".to_owned(), n(user.reset_epoch)),
                        (":next".to_owned(), n(user.reset_epoch + 1)),
                        (":de".to_owned(), n(user.device_epoch + 1)),
                    ]),
                    account_value,
                ))
                .build(),
        )?;
        // The session that made the change moves to the new epoch; every
        // other one (even a login racing this) is stale at once.
        let current = build(
            "Update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), session_sk(keep))))
                .update_expression("SET reset_epoch = :next, pwd_failures = :zero")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":next", n(user.reset_epoch + 1))
                .expression_attribute_values(":zero", n(0))
                .build(),
        )?;
        let failures = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(failures_pk(username), FAILURES_SK)))
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().update(profile).build(),
            TransactWriteItem::builder().update(current).build(),
            TransactWriteItem::builder().delete(failures).build(),
        ];
        items.extend(self.trail_items(
            user,
            Some(ActivityKind::PasswordChanged),
            Some(EventKind::PasswordChanged),
        )?);
        match self.transact(items).await {
            Ok(()) => {}
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => {
                return Ok(false);
            }
            Err(err) => return Err(sdk_err("TransactWriteItems", err)),
        }
        // The other sessions are already dead (stale epoch): deleting them is
        // cleanup, logged if it fails rather than answered with a 5xx.
        let others = async {
            let mut ages = self.session_ages(username).await?;
            ages.retain(|(_, sk)| *sk != session_sk(keep));
            let doomed = ages
                .into_iter()
                .map(|(_, sk)| key(user_pk(username), sk))
                .collect();
            self.batch_delete(doomed).await
        };
        if let Err(err) = others.await {
            tracing::warn!(
                error = format!("{err:#}"),
                "password change: session cleanup failed"
            );
        }
        Ok(true)
    }

    /// The profile's user, unless a deletion marked it: then the account is
    /// gone, and its deletion is finished here (a deletion that failed
    /// after its mark, whose session then ended, would otherwise leave the
    /// username and the address held for ever). Deleting is idempotent, so
    /// finishing one still under way does no harm.
    pub(super) async fn unless_deleting(&self, item: UserItem) -> StoreResult<Option<UserRecord>> {
        if item.deleting != Some(true) {
            return Ok(Some(item.user));
        }
        if let Some(data) = self.partition(&item.user.username).await? {
            let none = SessionId::from_stored(String::new());
            self.delete_partition(&data, &none).await?;
        }
        Ok(None)
    }

    /// Deletes the account read as `data`. First a barrier: the profile
    /// is marked `deleting`, and every write made on behalf of an account
    /// carries the condition that its profile is live (`LIVE_PROFILE`), so
    /// from then on nothing more can be written for it. What it holds is
    /// then read again (a write that landed before the mark is in that
    /// read) and deleted, the profile last. The mark makes a retry after a
    /// failure finish the job, and it still authenticates until the end.
    pub(super) async fn delete_partition(
        &self,
        data: &AccountData,
        current: &SessionId,
    ) -> StoreResult<()> {
        let user = &data.user;
        let (account, account_value) = same_account(&user.account_id);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(&user.username), PROFILE_SK)))
            .update_expression("SET deleting = :t")
            .condition_expression(format!("attribute_exists(pk) AND {account}"))
            .set_expression_attribute_values(with_account(
                HashMap::from([(":t".to_owned(), AttributeValue::Bool(true))]),
                account_value,
            ))
            .send()
            .await;
        if conditional("UpdateItem", out)?.is_none() {
            // Gone, or another account by now: nothing of ours left.
            return Ok(());
        }
        let mut data = match self.partition(&user.username).await? {
            Some(fresh) if fresh.user.account_id == user.account_id => fresh,
            _ => return Ok(()),
        };
        // Nothing can change it now; the loop only guards the assumption.
        for _ in 0..3 {
            if self.delete_partition_once(&data, current).await? {
                return Ok(());
            }
            match self.partition(&data.user.username).await? {
                Some(fresh) if fresh.user.account_id == data.user.account_id => data = fresh,
                _ => return Ok(()),
            }
        }
        Err(crate::ports::StoreError::Unavailable(anyhow::anyhow!(
            "the account kept changing while it was deleted"
        )))
    }

    /// One pass of [`DynamoStore::delete_partition`]: `false` when the
    /// profile was no longer as read (nothing of it deleted).
    async fn delete_partition_once(
        &self,
        data: &AccountData,
        current: &SessionId,
    ) -> StoreResult<bool> {
        let user = &data.user;
        let username = &user.username;
        // Everything but the profile and the caller's session first: all of
        // it idempotent, so a retry after a failure here still authenticates.
        let mut doomed: Vec<Item> = data
            .sessions
            .iter()
            .filter(|s| &s.sid != current)
            .map(|s| key(user_pk(username), session_sk(&s.sid)))
            .collect();
        for t in &data.tokens {
            doomed.push(key(token_pk(&t.hash), TOKEN_SK));
            doomed.push(key(user_pk(username), format!("TOKEN#{}", t.hash.as_str())));
        }
        for hash in &data.mfa_challenges {
            doomed.push(key(user_pk(username), format!("MFA#{hash}")));
        }
        for p in &data.passkeys {
            doomed.push(key(
                user_pk(username),
                super::port_passkeys::passkey_sk(&p.credential.id),
            ));
            doomed.push(super::port_passkeys::claim_key(&p.credential.id));
        }
        doomed.push(key(failures_pk(username), FAILURES_SK));
        doomed.extend(self.activity_keys(username).await?);
        for scope in USER_COUNTER_SCOPES {
            let counters = self
                .query_partition(format!("RATE#{scope}#{}", username.key()))
                .await?;
            for item in counters {
                if let (Some(pk), Some(sk)) = (item.get("pk"), item.get("sk")) {
                    doomed.push(HashMap::from([
                        ("pk".to_owned(), pk.clone()),
                        ("sk".to_owned(), sk.clone()),
                    ]));
                }
            }
        }
        self.batch_delete(doomed).await?;
        // The address, if this account holds it.
        let (account, account_value) = same_account(&user.account_id);
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(email_pk(&user.email), EMAIL_SK)))
            .condition_expression(format!("username_key = :k AND {account}"))
            .set_expression_attribute_values(with_account(
                HashMap::from([(":k".to_owned(), s(username.key()))]),
                account_value.clone(),
            ))
            .send()
            .await;
        conditional("DeleteItem", out)?;
        // Last, at once: the profile (still as read) and the caller's session.
        let epoch = counter_equals("reset_epoch", ":e", user.reset_epoch);
        let profile = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), PROFILE_SK)))
                .condition_expression(format!("{account} AND #email = :email AND {epoch}"))
                .expression_attribute_names("#email", "email")
                .set_expression_attribute_values(with_account(
                    HashMap::from([
                        (":email".to_owned(), s(user.email.as_str())),
                        (":e".to_owned(), n(user.reset_epoch)),
                    ]),
                    account_value,
                ))
                .build(),
        )?;
        let session = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(username), session_sk(current))))
                .build(),
        )?;
        let deleted = self.trail_items(user, None, Some(EventKind::AccountDeleted))?;
        let last = vec![
            TransactWriteItem::builder().delete(profile).build(),
            TransactWriteItem::builder().delete(session).build(),
        ];
        let mut items = last.clone();
        // The event goes with the profile's deletion (after the claim's
        // guard, whose index the fallback below reads).
        // A pending change confirmed while this ran claimed its new address:
        // that claim goes with the account (and is left alone if another
        // account holds the address).
        if let Some(pending) = &user.pending_email {
            let guard = build(
                "Delete",
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(email_pk(&pending.email), EMAIL_SK)))
                    .condition_expression("attribute_not_exists(pk) OR username_key = :k")
                    .expression_attribute_values(":k", s(username.key()))
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().delete(guard).build());
        }
        items.extend(deleted.iter().cloned());
        match self.transact(items).await {
            Ok(()) => Ok(true),
            // Gone, another account, or changed since it was read: the
            // caller reads it again.
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.first() == Some(&true)) => {
                Ok(false)
            }
            // The pending address is another account's: without it (the
            // profile still as read, or the caller reads it again: two
            // finishers racing here delete it, and say so, once).
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => {
                let last = last.into_iter().chain(deleted).collect();
                match self.transact(last).await {
                    Ok(()) => Ok(true),
                    Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => {
                        Ok(false)
                    }
                    Err(err) => Err(sdk_err("TransactWriteItems", err)),
                }
            }
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }
}
