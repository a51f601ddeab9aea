//! Sessions: written only while their account exists, read back only for
//! that account and its reset epoch, and capped per user (oldest end first).

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use super::DynamoStore;
use super::errors::{build, cancelled_conditions, sdk_err};
use super::items::{
    FAILURES_SK, Item, PROFILE_SK, SessionItem, UserItem, from_item, key, run_pk, session_sk,
    to_item, user_pk,
};
use crate::domain::{SessionId, Username};
use crate::ports::{FailureRun, SessionRecord, StoreResult, UserRecord};

/// The item of `session`.
pub(super) fn session_item(session: &SessionRecord) -> StoreResult<Item> {
    to_item(&SessionItem {
        pk: user_pk(&session.username),
        sk: session_sk(&session.sid),
        created_at: session.created_at,
        expires_at: session.expires_at,
        reset_epoch: session.reset_epoch,
        account_id: session.account_id.clone(),
        remember: session.remember,
        pwd_failures: session.pwd_failures,
        session_epoch: session.session_epoch,
        device: session.device.clone(),
        amr: session.amr.clone(),
        known_device: session.known_device,
    })
}

impl DynamoStore {
    /// A transaction's deletion of failure run `run` (a sign-in succeeded).
    pub(super) fn end_run(&self, run: &FailureRun) -> StoreResult<TransactWriteItem> {
        let delete = build(
            "Delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(run_pk(run), FAILURES_SK)))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    pub(super) async fn put_session(
        &self,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool> {
        // The session is written only while its account exists: a login
        // racing the account's removal cannot leave a session behind that a
        // later account with the same username would inherit.
        let mut items = vec![
            self.account_check(&session.username, &session.account_id)?,
            self.put(session_item(session)?, None)?,
        ];
        items.extend(clear.map(|run| self.end_run(run)).transpose()?);
        let signed_in = crate::ports::Trail::current().sign_in(session.known_device);
        items.push(self.activity_put(&session.username, Some(&session.account_id), &signed_in)?);
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
        let (user, _) = self.read_session(username, sid, now).await?;
        Ok(user)
    }

    pub(super) async fn live_session_user_and_failures(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, u32)> {
        let (user, failures) = self.read_session(username, sid, now).await?;
        Ok((user.map(|(user, _)| user), failures))
    }

    /// One BatchGetItem: the profile and the session. The user (and when
    /// the session expires) only if the session is live for it, and the
    /// session's run of wrong passwords.
    async fn read_session(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<(Option<(UserRecord, i64)>, u32)> {
        let keys = vec![
            key(user_pk(username), PROFILE_SK),
            key(user_pk(username), session_sk(sid)),
        ];
        let mut user: Option<UserRecord> = None;
        let mut session: Option<SessionItem> = None;
        for item in self.batch_get(keys).await? {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            if sk.as_deref() == Some(PROFILE_SK) {
                user = Some(from_item::<UserItem>(item)?.user);
            } else {
                session = Some(from_item(item)?);
            }
        }
        let failures = session.as_ref().map_or(0, |s| s.pwd_failures);
        let live = |s: &SessionItem| s.expires_at > now;
        let user = match (user, session) {
            (Some(u), Some(s))
                if live(&s)
                    && s.reset_epoch == u.reset_epoch
                    && s.session_epoch == u.session_epoch
                    && s.account_id == u.account_id =>
            {
                Some((u, s.expires_at))
            }
            _ => None,
        };
        Ok((user, failures))
    }
}
