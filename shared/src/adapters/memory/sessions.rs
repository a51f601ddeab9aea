//! The in-memory store: sessions: sign-in writes, signed-in checks, passwords re-entered in a session, sign-outs.

use async_trait::async_trait;

use super::*;
use crate::ports::SessionStore;

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(
        &self,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        t.sweep(session.created_at);
        let account_exists = t
            .users
            .get(session.username.key())
            .is_some_and(|u| u.account_id == session.account_id);
        if !account_exists {
            return Ok(false);
        }
        t.sessions.insert(
            (
                session.username.key().to_owned(),
                session.sid.as_str().to_owned(),
            ),
            session.clone(),
        );
        if let Some(run) = clear {
            t.login_failures.remove(&run.key());
        }
        let signed_in = Trail::current().sign_in(session.known_device);
        t.record(session.username.key(), signed_in);
        Ok(true)
    }

    async fn end_sessions_beyond(
        &self,
        username: &Username,
        keep: usize,
        current: &SessionId,
    ) -> StoreResult<usize> {
        let mut t = self.lock()?;
        // Newest first (created_at, then id, as DynamoDB's query sorts them).
        let mut others: Vec<(i64, String)> = t
            .sessions
            .iter()
            .filter(|((owner, sid), _)| owner == username.key() && sid != current.as_str())
            .map(|((_, sid), s)| (s.created_at, sid.clone()))
            .collect();
        others.sort_unstable_by(|a, b| b.cmp(a));
        let doomed: Vec<String> = others
            .into_iter()
            .skip(keep.saturating_sub(1))
            .map(|(_, sid)| sid)
            .collect();
        for sid in &doomed {
            t.sessions.remove(&(username.key().to_owned(), sid.clone()));
        }
        Ok(doomed.len())
    }

    async fn session_user_until(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<(UserRecord, i64)>> {
        let (username_key, sid) = (username.key(), sid.as_str());
        let t = self.lock()?;
        let session = t
            .sessions
            .get(&(username_key.to_owned(), sid.to_owned()))
            .filter(|s| s.expires_at > now);
        Ok(session.and_then(|s| {
            t.users
                .get(username_key)
                .filter(|u| s.is_live_for(u, now))
                .map(|u| (u.clone(), s.expires_at))
        }))
    }

    async fn session_user_and_failures(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, u32)> {
        let t = self.lock()?;
        let username_key = username.key();
        let session = t
            .sessions
            .get(&(username_key.to_owned(), sid.as_str().to_owned()));
        let failures = session.map_or(0, |s| s.pwd_failures);
        let user = session.and_then(|s| {
            t.users
                .get(username_key)
                .filter(|u| s.is_live_for(u, now))
                .cloned()
        });
        Ok((user, failures))
    }

    async fn claim_password_attempt(
        &self,
        username: &Username,
        sid: &SessionId,
        seen: u32,
        now: i64,
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        match t.live_session_mut(username.key(), sid, now) {
            Some(s) if s.pwd_failures == seen => {
                s.pwd_failures = seen.saturating_add(1);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn clear_password_failures(
        &self,
        username: &Username,
        sid: &SessionId,
    ) -> StoreResult<()> {
        let mut t = self.lock()?;
        if let Some(s) = t.live_session_mut(username.key(), sid, i64::MIN) {
            s.pwd_failures = 0;
        }
        Ok(())
    }

    async fn delete_session(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
        kind: ActivityKind,
    ) -> StoreResult<bool> {
        let username_key = username.key();
        let sid = sid.as_str();
        let mut t = self.lock()?;
        let id = (username_key.to_owned(), sid.to_owned());
        // Like the DynamoDB transaction: only while the account is there.
        let live = t.sessions.get(&id).is_some_and(|s| s.expires_at > now)
            && t.users.contains_key(username_key);
        if live {
            t.sessions.remove(&id);
            t.record(username_key, Trail::current().activity(kind));
        }
        Ok(live)
    }

    async fn end_all_sessions(&self, user: &UserRecord) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let key = user.username.key();
        let Some(stored) = t
            .users
            .get_mut(key)
            .filter(|u| u.account_id == user.account_id)
        else {
            return Ok(false);
        };
        stored.session_epoch += 1;
        t.end_sessions(key);
        t.trail(user, Some(ActivityKind::SessionEnded), None);
        Ok(true)
    }
}
