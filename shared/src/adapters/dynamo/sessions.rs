//! Sessions: written only while their account exists, read back only for
//! that account and its reset epoch, and capped per user (oldest end first).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, TransactWriteItem};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, sdk_err};
use super::items::{
    FAILURES_SK, FailuresItem, PROFILE_SK, SessionItem, UserItem, failures_pk, from_item, key,
    same_account, session_sk, to_item, user_pk,
};
use crate::domain::{LoginFailures, SessionId, Username};
use crate::ports::{SessionRecord, StoreResult, UserRecord};

impl DynamoStore {
    pub(super) async fn put_session(
        &self,
        session: &SessionRecord,
        clear_failures: bool,
    ) -> StoreResult<bool> {
        let item = to_item(&SessionItem {
            pk: user_pk(&session.username),
            sk: session_sk(&session.sid),
            created_at: session.created_at,
            expires_at: session.expires_at,
            reset_epoch: session.reset_epoch,
            account_id: session.account_id.clone(),
            remember: session.remember,
        })?;
        // The session is written only while its account exists: a login
        // racing the account's removal cannot leave a session behind that a
        // later account with the same username would inherit.
        let (condition, account) = same_account(&session.account_id);
        let check = build(
            "ConditionCheck",
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(&session.username), PROFILE_SK)))
                .condition_expression(format!("attribute_exists(pk) AND {condition}"))
                .set_expression_attribute_values(
                    account.map(|v| HashMap::from([(":account".to_owned(), v)])),
                )
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            self.put(item, None)?,
        ];
        if clear_failures {
            let delete = build(
                "Delete",
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(failures_pk(&session.username), FAILURES_SK)))
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        // A login racing another login or a failed attempt of the same user
        // conflicts on the failure run: tried again by `transact`.
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancelled_conditions(&err).is_some_and(|c| c.contains(&true)) => Ok(false),
            Err(err) => Err(sdk_err("TransactWriteItems", err)),
        }
    }

    pub(super) async fn trim_sessions(
        &self,
        username: &Username,
        keep: usize,
        current: &SessionId,
    ) -> StoreResult<usize> {
        let mut others = self.session_ages(username).await?;
        others.retain(|(_, sk)| *sk != session_sk(current));
        others.sort_unstable_by(|a, b| b.cmp(a));
        let doomed: Vec<_> = others
            .into_iter()
            .skip(keep.saturating_sub(1))
            .map(|(_, sk)| key(user_pk(username), sk))
            .collect();
        let ended = doomed.len();
        if ended > 0 {
            self.batch_delete(doomed).await?;
        }
        Ok(ended)
    }

    pub(super) async fn live_session_user(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<(UserRecord, i64)>> {
        let (user, _) = self.read_session(username, sid, now, false).await?;
        Ok(user)
    }

    pub(super) async fn live_session_user_and_failures(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, LoginFailures)> {
        let (user, run) = self.read_session(username, sid, now, true).await?;
        Ok((user.map(|(user, _)| user), run))
    }

    /// One BatchGetItem: the profile and the session, with `failures` also
    /// the failed-login run. The user (and when the session expires) only if
    /// the session is live for it.
    async fn read_session(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
        failures: bool,
    ) -> StoreResult<(Option<(UserRecord, i64)>, LoginFailures)> {
        let mut keys = vec![
            key(user_pk(username), PROFILE_SK),
            key(user_pk(username), session_sk(sid)),
        ];
        if failures {
            keys.push(key(failures_pk(username), FAILURES_SK));
        }
        let mut user: Option<UserRecord> = None;
        let mut session: Option<SessionItem> = None;
        let mut run = LoginFailures::default();
        for item in self.batch_get(keys).await? {
            let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned();
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            if sk.as_deref() == Some(PROFILE_SK) {
                user = Some(from_item::<UserItem>(item)?.user);
            } else if sk.as_deref() == Some(FAILURES_SK) && pk != Some(user_pk(username)) {
                let f: FailuresItem = from_item(item)?;
                if f.expires_at > now {
                    run = LoginFailures {
                        count: f.n,
                        last_at: f.last_at,
                    };
                }
            } else {
                session = Some(from_item(item)?);
            }
        }
        let live = |s: &SessionItem| s.expires_at > now;
        let user = match (user, session) {
            (Some(u), Some(s))
                if live(&s) && s.reset_epoch == u.reset_epoch && s.account_id == u.account_id =>
            {
                Some((u, s.expires_at))
            }
            _ => None,
        };
        Ok((user, run))
    }
}
