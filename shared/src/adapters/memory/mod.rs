//! The embedded in-memory store: the local default and the reference the
//! DynamoDB adapter is checked against. One lock makes every method atomic,
//! as the conditional writes and transactions are on DynamoDB.

mod accounts;
mod factors;
mod limits;
mod links;
mod passkeys;
mod sessions;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::domain::activity::{ActivityKind, EventKind};
use crate::domain::{
    AccountId, DeviceId, EmailAddress, LoginFailures, RateCap, SessionId, TokenHash, Username,
};
use crate::ports::{
    AccountData, ActivityRecord, Confirmation, CreateUserError, FailureRun, LoginState,
    OutboxEvent, PendingEmail, SessionRecord, StoreError, StoreResult, TokenPurpose, TokenRecord,
    Trail, USER_COUNTER_SCOPES, UserRecord, WriteOutcome,
};

#[derive(Default)]
struct Tables {
    users: HashMap<String, UserRecord>,
    /// Confirmed addresses: email key -> (username key, account).
    emails: HashMap<String, (String, AccountId)>,
    /// (username key, sid)
    sessions: HashMap<(String, String), SessionRecord>,
    tokens: HashMap<TokenHash, TokenRecord>,
    /// failure run key ([`FailureRun::key`]) -> (failures, expires_at)
    login_failures: HashMap<String, (LoginFailures, i64)>,
    /// (key, window start) -> (count, expires_at)
    counters: HashMap<(String, i64), (u32, i64)>,
    /// Sign-ins waiting for a second factor: (username key, hash).
    challenges: HashMap<(String, String), crate::ports::MfaChallenge>,
    /// Passkeys by credential id.
    passkeys: HashMap<String, crate::ports::PasskeyRecord>,
    /// WebAuthn ceremonies by id.
    ceremonies: HashMap<String, crate::ports::CeremonyRecord>,
    /// Security activity by username key, oldest first.
    activity: HashMap<String, Vec<ActivityRecord>>,
    /// Account events not yet drained (see [`MemoryStore::drain_events`]).
    outbox: Vec<OutboxEvent>,
    /// Writes since the last sweep of expired entries.
    writes: u32,
}

/// Users, sessions, tokens and counters in process memory.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

/// Everything a [`MemoryStore`] holds, copied out at once: for tests that
/// check invariants over what is stored (as a scan of the table does on
/// DynamoDB).
#[derive(Debug, Clone)]
pub struct MemoryContents {
    /// Every account.
    pub users: Vec<UserRecord>,
    /// Every claimed address: (email key, username key, account).
    pub claims: Vec<(String, String, AccountId)>,
    /// Every session, live or not.
    pub sessions: Vec<SessionRecord>,
    /// Every one-time token, live or not.
    pub tokens: Vec<TokenRecord>,
    /// The names of every counter (`<scope>#<key>[#<part>]`).
    pub counters: Vec<String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything stored (see [`MemoryContents`]).
    pub fn contents(&self) -> StoreResult<MemoryContents> {
        let t = self.lock()?;
        Ok(MemoryContents {
            users: t.users.values().cloned().collect(),
            claims: t
                .emails
                .iter()
                .map(|(email, (user, account))| (email.clone(), user.clone(), account.clone()))
                .collect(),
            sessions: t.sessions.values().cloned().collect(),
            tokens: t.tokens.values().cloned().collect(),
            counters: t.counters.keys().map(|(name, _)| name.clone()).collect(),
        })
    }

    /// Takes the account events written since the last call, oldest
    /// first: the dev server's stand-in for the table's stream.
    pub fn drain_events(&self) -> StoreResult<Vec<OutboxEvent>> {
        Ok(std::mem::take(&mut self.lock()?.outbox))
    }

    /// Puts back events a drain could not deliver, ahead of those written
    /// since.
    pub fn requeue_events(&self, mut events: Vec<OutboxEvent>) -> StoreResult<()> {
        let mut t = self.lock()?;
        events.append(&mut t.outbox);
        t.outbox = events;
        Ok(())
    }

    fn lock(&self) -> StoreResult<MutexGuard<'_, Tables>> {
        self.tables
            .lock()
            .map_err(|_| StoreError::Internal(anyhow::anyhow!("memory store lock poisoned")))
    }
}

/// Expired entries are swept every this many writes, so a long-running dev
/// server does not grow without bound (DynamoDB's TTL does this in AWS).
const SWEEP_EVERY: u32 = 1024;

impl Tables {
    /// Counts a write and now and then drops everything expired at `now`.
    fn sweep(&mut self, now: i64) {
        self.writes += 1;
        if self.writes < SWEEP_EVERY {
            return;
        }
        self.writes = 0;
        self.counters.retain(|_, (_, expires_at)| *expires_at > now);
        self.login_failures
            .retain(|_, (_, expires_at)| *expires_at > now);
        self.tokens.retain(|_, t| t.expires_at > now);
        self.sessions.retain(|_, s| s.expires_at > now);
        self.challenges.retain(|_, c| c.expires_at > now);
        self.ceremonies.retain(|_, c| c.expires_at > now);
        for items in self.activity.values_mut() {
            items.retain(|a| a.expires_at > now);
        }
        self.activity.retain(|_, items| !items.is_empty());
    }

    /// Records `activity` in `username_key`'s account.
    fn record(&mut self, username_key: &str, activity: ActivityRecord) {
        let items = self.activity.entry(username_key.to_owned()).or_default();
        items.push(activity);
        // Ids increase within a process; kept sorted all the same.
        items.sort_by(|a, b| a.id.cmp(&b.id));
    }

    /// Records the current request's `kind` (and, if given, the account
    /// event `event`) for `user`: what every change does with itself.
    fn trail(&mut self, user: &UserRecord, kind: Option<ActivityKind>, event: Option<EventKind>) {
        let trail = Trail::current();
        if let Some(kind) = kind {
            self.record(user.username.key(), trail.activity(kind));
        }
        if let Some(event) = event {
            let event = trail.event(event, &user.username, &user.account_id);
            self.outbox.push(event);
        }
    }

    fn live_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: i64,
    ) -> Option<&TokenRecord> {
        self.tokens
            .get(hash)
            .filter(|t| t.purpose == purpose && t.expires_at > now)
    }

    /// Whether `user`'s address is free or already its own.
    fn address_free_for(&self, user: &UserRecord) -> bool {
        self.emails
            .get(user.email.key())
            .is_none_or(|(key, account)| key == user.username.key() && *account == user.account_id)
    }

    /// Marks `username_key`'s email verified and claims its address, if
    /// that is still the address `proven` (the one the link was mailed to)
    /// and it is free or its own; `false` (nothing changed) otherwise.
    fn claim_address(&mut self, username_key: &str, proven: &EmailAddress) -> bool {
        let Some(user) = self.users.get(username_key) else {
            return false;
        };
        if user.email.as_str() != proven.as_str() || !self.address_free_for(user) {
            return false;
        }
        let claim = (username_key.to_owned(), user.account_id.clone());
        self.emails.insert(user.email.key().to_owned(), claim);
        if let Some(user) = self.users.get_mut(username_key) {
            user.is_email_verified = true;
        }
        true
    }

    /// Drops `user`'s claim on its current address, if it holds it.
    fn release_address(&mut self, user: &UserRecord) {
        let key = user.email.key();
        let ours = self
            .emails
            .get(key)
            .is_some_and(|(k, account)| k == user.username.key() && *account == user.account_id);
        if ours {
            self.emails.remove(key);
        }
    }

    fn end_sessions(&mut self, username_key: &str) {
        self.sessions.retain(|(owner, _), _| owner != username_key);
        self.challenges
            .retain(|(owner, _), _| owner != username_key);
    }

    /// Whether `username` is the account `account` (it exists, and is not a
    /// later account with the same name).
    fn is_account(&self, username: &Username, account: &AccountId) -> bool {
        self.users
            .get(username.key())
            .is_some_and(|u| u.account_id == *account)
    }

    /// `user`'s account as stored, if it is still that account.
    fn account(&self, user: &UserRecord) -> Option<&UserRecord> {
        self.users
            .get(user.username.key())
            .filter(|u| u.account_id == user.account_id)
    }

    /// [`Self::account`], for writing.
    fn account_mut(&mut self, user: &UserRecord) -> Option<&mut UserRecord> {
        self.users
            .get_mut(user.username.key())
            .filter(|u| u.account_id == user.account_id)
    }

    /// A failure run as it stands at `now` (an expired one counts as none).
    fn run(&self, key: &str, now: i64) -> LoginFailures {
        self.login_failures
            .get(key)
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(f, _)| *f)
            .unwrap_or_default()
    }

    /// The live session `sid` of `username_key`, for writing.
    fn live_session_mut(
        &mut self,
        username_key: &str,
        sid: &SessionId,
        now: i64,
    ) -> Option<&mut SessionRecord> {
        self.sessions
            .get_mut(&(username_key.to_owned(), sid.as_str().to_owned()))
            .filter(|s| s.expires_at > now)
    }
}

/// The username's run key.
fn username_run(username_key: &str) -> String {
    FailureRun::Username(Username::from_stored(username_key.to_owned())).key()
}

/// Counts one hit in every cap, all or none: `false` (nothing counted) when
/// any is at its limit, like the caps' updates in one DynamoDB transaction.
fn take_caps(t: &mut Tables, caps: &[RateCap]) -> bool {
    if !caps.iter().all(|cap| below_limit(t, cap)) {
        return false;
    }
    for cap in caps {
        hit_counter(t, cap);
    }
    true
}

fn below_limit(t: &Tables, cap: &RateCap) -> bool {
    t.counters
        .get(&(cap.counter_name(), cap.window_start))
        .is_none_or(|(n, _)| *n < cap.limit)
}

fn hit_counter(t: &mut Tables, cap: &RateCap) -> bool {
    let entry = t
        .counters
        .entry((cap.counter_name(), cap.window_start))
        .or_insert((0, cap.expires_at));
    if entry.0 >= cap.limit {
        return false;
    }
    entry.0 += 1;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::LimitStore;

    #[tokio::test]
    async fn expired_entries_are_swept() {
        let store = MemoryStore::new();
        for window in 0..3000 {
            let cap = RateCap {
                key: "ip#1".into(),
                part: None,
                window_start: window * 60,
                limit: 1,
                expires_at: window * 60 + 60,
            };
            assert!(store.hit(&cap).await.unwrap());
        }
        let left = store.lock().unwrap().counters.len();
        assert!(left <= SWEEP_EVERY as usize, "{left} counters kept");
    }
}
