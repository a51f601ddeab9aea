//! The embedded in-memory store: the local default and the reference the
//! DynamoDB adapter is checked against. One lock makes every method atomic,
//! as the conditional writes and transactions are on DynamoDB.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::{
    AccountId, DeviceId, EmailAddress, LoginFailures, RateCap, SessionId, TokenHash, Username,
};
use crate::ports::{
    AccountData, Confirmation, CreateUserError, FailureRun, LoginState, PendingEmail,
    SessionRecord, StoreError, StoreResult, TokenPurpose, TokenRecord, USER_COUNTER_SCOPES,
    UserRecord, UserStore, WriteOutcome,
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
    }

    /// Whether `username` is the account `account` (it exists, and is not a
    /// later account with the same name).
    fn is_account(&self, username: &Username, account: &AccountId) -> bool {
        self.users
            .get(username.key())
            .is_some_and(|u| u.account_id == *account)
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

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> Result<(), CreateUserError> {
        let mut t = self.lock()?;
        t.sweep(user.created_at);
        let key = user.username.key().to_owned();
        if t.users.contains_key(&key) {
            return Err(CreateUserError::UsernameTaken);
        }
        t.users.insert(key, user.clone());
        t.tokens.insert(confirm.hash.clone(), confirm.clone());
        Ok(())
    }

    async fn delete_unverified_user(
        &self,
        user: &UserRecord,
        confirm: &TokenRecord,
    ) -> StoreResult<()> {
        let mut t = self.lock()?;
        let key = user.username.key().to_owned();
        let ours = t
            .users
            .get(&key)
            .is_some_and(|u| !u.is_email_verified && u.created_at == user.created_at);
        if ours {
            t.users.remove(&key);
            t.tokens.remove(&confirm.hash);
        }
        Ok(())
    }

    async fn address_holder(&self, email: &EmailAddress) -> StoreResult<Option<Username>> {
        let t = self.lock()?;
        Ok(t.emails
            .get(email.key())
            .map(|(key, _)| Username::from_stored(key.clone())))
    }

    async fn get_user(&self, username: &Username) -> StoreResult<Option<UserRecord>> {
        Ok(self.lock()?.users.get(username.key()).cloned())
    }

    async fn login_state(
        &self,
        username: &Username,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<LoginState> {
        let t = self.lock()?;
        Ok(LoginState {
            user: t.users.get(username.key()).cloned(),
            failures: t.run(&FailureRun::Username(username.clone()).key(), now),
            device_failures: device
                .map(|d| t.run(&FailureRun::Device(d.clone()).key(), now))
                .unwrap_or_default(),
        })
    }

    async fn claim_login_attempt(
        &self,
        run: &FailureRun,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
        _attempt: &SessionId,
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        t.sweep(now);
        let entry = t
            .login_failures
            .entry(run.key())
            .or_insert((LoginFailures::default(), 0));
        if entry.1 <= now {
            // Expired runs count from zero again, like an item past its TTL.
            entry.0 = LoginFailures::default();
        }
        if entry.0 != seen {
            return Ok(false);
        }
        entry.0.count = entry.0.count.saturating_add(1);
        entry.0.last_at = now;
        entry.1 = expires_at;
        Ok(true)
    }

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
    ) -> StoreResult<bool> {
        let username_key = username.key();
        let sid = sid.as_str();
        let mut t = self.lock()?;
        let id = (username_key.to_owned(), sid.to_owned());
        let live = t.sessions.get(&id).is_some_and(|s| s.expires_at > now);
        if live {
            t.sessions.remove(&id);
        }
        Ok(live)
    }

    async fn put_token(&self, token: &TokenRecord, caps: &[RateCap]) -> StoreResult<WriteOutcome> {
        let mut t = self.lock()?;
        if !t.is_account(&token.username, &token.account_id) {
            return Ok(WriteOutcome::Stale);
        }
        if !take_caps(&mut t, caps) {
            return Ok(WriteOutcome::Capped);
        }
        t.tokens.insert(token.hash.clone(), token.clone());
        Ok(WriteOutcome::Done)
    }

    async fn hit_for_account(&self, cap: &RateCap, user: &UserRecord) -> StoreResult<WriteOutcome> {
        let mut t = self.lock()?;
        if !t.is_account(&user.username, &user.account_id) {
            return Ok(WriteOutcome::Stale);
        }
        Ok(if hit_counter(&mut t, cap) {
            WriteOutcome::Done
        } else {
            WriteOutcome::Capped
        })
    }

    async fn get_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: i64,
    ) -> StoreResult<Option<TokenRecord>> {
        Ok(self.lock()?.live_token(hash, purpose, now).cloned())
    }

    async fn confirm_email(&self, hash: &TokenHash, now: i64) -> StoreResult<Confirmation> {
        let mut t = self.lock()?;
        let token = match t.live_token(hash, TokenPurpose::Confirm, now) {
            Some(token) => token.clone(),
            None => match t.live_token(hash, TokenPurpose::ChangeEmail, now) {
                Some(token) => token.clone(),
                None => return Ok(Confirmation::NotFound),
            },
        };
        // Like the DynamoDB transaction: a token whose account is gone, or
        // whose address another account holds, is refused and left as it is.
        let username_key = token.username.key().to_owned();
        let Some(user) = t
            .users
            .get(&username_key)
            .filter(|u| u.account_id == token.account_id)
            .cloned()
        else {
            return Ok(Confirmation::NotFound);
        };
        if token.purpose == TokenPurpose::Confirm {
            let latest =
                user.confirm_epoch == token.epoch && user.email.as_str() == token.email.as_str();
            if !latest {
                return Ok(Confirmation::NotFound);
            }
            if !t.claim_address(&username_key, &token.email) {
                return Ok(Confirmation::AddressTaken);
            }
        } else {
            let pending = user
                .pending_email
                .as_ref()
                .is_some_and(|p| p.email.as_str() == token.email.as_str());
            if !pending {
                return Ok(Confirmation::NotFound);
            }
            let mut moved = user.clone();
            moved.email = token.email.clone();
            if !t.address_free_for(&moved) {
                return Ok(Confirmation::AddressTaken);
            }
            t.release_address(&user);
            if let Some(u) = t.users.get_mut(&username_key) {
                u.email = token.email.clone();
                u.pending_email = None;
            }
            t.claim_address(&username_key, &token.email);
        }
        t.tokens.remove(hash);
        Ok(Confirmation::Confirmed)
    }

    async fn request_email_change(
        &self,
        user: &UserRecord,
        pending: &PendingEmail,
        change: &TokenRecord,
        revert: Option<&TokenRecord>,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        let mut t = self.lock()?;
        let same = t.users.get(user.username.key()).is_some_and(|u| {
            u.account_id == user.account_id
                && u.email.as_str() == user.email.as_str()
                && u.email_changes == user.email_changes
        });
        if !same {
            return Ok(WriteOutcome::Stale);
        }
        if !caps.iter().all(|cap| below_limit(&t, cap)) {
            return Ok(WriteOutcome::Capped);
        }
        take_caps(&mut t, caps);
        if let Some(u) = t.users.get_mut(user.username.key()) {
            u.pending_email = Some(pending.clone());
            u.email_changes = user.email_changes + 1;
        }
        t.tokens.insert(change.hash.clone(), change.clone());
        if let Some(revert) = revert {
            t.tokens.insert(revert.hash.clone(), revert.clone());
        }
        Ok(WriteOutcome::Done)
    }

    async fn revert_email(
        &self,
        revert: &TokenRecord,
        user: &UserRecord,
        reset: &TokenRecord,
        now: i64,
    ) -> StoreResult<Confirmation> {
        let mut t = self.lock()?;
        let live = t
            .live_token(&revert.hash, TokenPurpose::RevertEmail, now)
            .is_some_and(|tok| tok.username.key() == revert.username.key());
        let username_key = revert.username.key().to_owned();
        // Like the DynamoDB condition: the account as the handler read it.
        let as_read = t.users.get(&username_key).is_some_and(|u| {
            u.account_id == revert.account_id
                && u.account_id == user.account_id
                && u.email.as_str() == user.email.as_str()
                && u.reset_epoch == user.reset_epoch
                && u.email_changes == user.email_changes
                && u.revert_is_live(revert.epoch)
        });
        if !live || !as_read {
            return Ok(Confirmation::NotFound);
        }
        let mut restored = user.clone();
        restored.email = revert.email.clone();
        if !t.address_free_for(&restored) {
            return Ok(Confirmation::AddressTaken);
        }
        if user.email.as_str() != revert.email.as_str() {
            t.release_address(user);
        }
        if let Some(u) = t.users.get_mut(&username_key) {
            u.email = revert.email.clone();
            u.pending_email = None;
            u.password_hash = String::new();
            u.reset_epoch += 1;
            u.confirm_epoch += 1;
            u.device_epoch += 1;
            if u.email_changes > revert.epoch {
                u.reverts_voided.push((revert.epoch, u.email_changes));
            }
        }
        t.claim_address(&username_key, &revert.email);
        t.end_sessions(&username_key);
        t.login_failures.remove(&username_run(&username_key));
        t.tokens.remove(&revert.hash);
        t.tokens.insert(reset.hash.clone(), reset.clone());
        Ok(Confirmation::Confirmed)
    }

    async fn resend_confirmation(
        &self,
        user: &UserRecord,
        token: &TokenRecord,
        caps: &[RateCap],
    ) -> StoreResult<WriteOutcome> {
        let mut t = self.lock()?;
        let same = t.users.get(user.username.key()).is_some_and(|u| {
            u.account_id == user.account_id
                && u.email.as_str() == user.email.as_str()
                && !u.is_email_verified
                && u.confirm_epoch == user.confirm_epoch
        });
        if !same {
            return Ok(WriteOutcome::Stale);
        }
        if !caps.iter().all(|cap| below_limit(&t, cap)) {
            return Ok(WriteOutcome::Capped);
        }
        take_caps(&mut t, caps);
        if let Some(u) = t.users.get_mut(user.username.key()) {
            u.confirm_epoch = token.epoch;
        }
        t.tokens.insert(token.hash.clone(), token.clone());
        Ok(WriteOutcome::Done)
    }

    async fn reset_password(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        let mut t = self.lock()?;
        let username_key = token.username.key();
        let live = t
            .live_token(&token.hash, TokenPurpose::Reset, now)
            .is_some_and(|tok| tok.username.key() == username_key);
        // The link proves only the address it was mailed to: once that is
        // not the account's address any more, the link is void.
        let same_epoch = t.users.get(username_key).is_some_and(|u| {
            u.reset_epoch == token.epoch
                && u.account_id == token.account_id
                && u.email.as_str() == token.email.as_str()
        });
        if !live || !same_epoch {
            return Ok(None);
        }
        t.tokens.remove(&token.hash);
        t.end_sessions(username_key);
        t.login_failures.remove(&username_run(username_key));
        if let Some(user) = t.users.get_mut(username_key) {
            user.password_hash = password_hash.to_owned();
            user.pending_email = None;
            user.reset_epoch += 1;
            user.device_epoch += 1;
        }
        t.claim_address(username_key, &token.email);
        Ok(t.users.get(username_key).cloned())
    }

    async fn hit(&self, cap: &RateCap) -> StoreResult<bool> {
        let mut t = self.lock()?;
        t.sweep(cap.window_start);
        Ok(hit_counter(&mut t, cap))
    }

    async fn refund(&self, cap: &RateCap) -> StoreResult<()> {
        let mut t = self.lock()?;
        if let Some(entry) = t.counters.get_mut(&(cap.counter_name(), cap.window_start)) {
            entry.0 = entry.0.saturating_sub(1);
        }
        Ok(())
    }

    async fn account_data(&self, username: &Username) -> StoreResult<Option<AccountData>> {
        let t = self.lock()?;
        let key = username.key();
        let Some(user) = t.users.get(key).cloned() else {
            return Ok(None);
        };
        let mut sessions: Vec<SessionRecord> = t
            .sessions
            .iter()
            .filter(|((owner, _), _)| owner == key)
            .map(|(_, s)| s.clone())
            .collect();
        // As DynamoDB's query returns them: by sort key.
        sessions.sort_by(|a, b| a.sid.as_str().cmp(b.sid.as_str()));
        let mut tokens: Vec<TokenRecord> = t
            .tokens
            .values()
            .filter(|tok| tok.username.key() == key)
            .cloned()
            .collect();
        tokens.sort_by(|a, b| a.hash.as_str().cmp(b.hash.as_str()));
        Ok(Some(AccountData {
            user,
            sessions,
            tokens,
        }))
    }

    async fn update_profile(&self, user: &UserRecord) -> StoreResult<Option<UserRecord>> {
        let mut t = self.lock()?;
        let Some(stored) = t
            .users
            .get_mut(user.username.key())
            .filter(|u| u.account_id == user.account_id)
        else {
            return Ok(None);
        };
        stored.full_name = user.full_name.clone();
        stored.phone = user.phone.clone();
        stored.contacts = user.contacts.clone();
        Ok(Some(stored.clone()))
    }

    async fn change_password(
        &self,
        user: &UserRecord,
        password_hash: &str,
        keep: &SessionId,
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let key = user.username.key().to_owned();
        // Like the DynamoDB transaction: the caller's session must still be there.
        if !t
            .sessions
            .contains_key(&(key.clone(), keep.as_str().to_owned()))
        {
            return Ok(false);
        }
        let Some(stored) = t
            .users
            .get_mut(&key)
            .filter(|u| u.account_id == user.account_id && u.reset_epoch == user.reset_epoch)
        else {
            return Ok(false);
        };
        stored.password_hash = password_hash.to_owned();
        stored.pending_email = None;
        stored.reset_epoch += 1;
        stored.device_epoch = user.device_epoch + 1;
        let epoch = stored.reset_epoch;
        t.sessions
            .retain(|(owner, sid), _| *owner != key || sid == keep.as_str());
        if let Some(current) = t.sessions.get_mut(&(key.clone(), keep.as_str().to_owned())) {
            current.reset_epoch = epoch;
            current.pwd_failures = 0;
        }
        t.login_failures.remove(&username_run(&key));
        Ok(true)
    }

    async fn forget_login_failures(&self, run: &FailureRun) -> StoreResult<()> {
        self.lock()?.login_failures.remove(&run.key());
        Ok(())
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
        Ok(true)
    }

    async fn delete_account(&self, data: &AccountData, _current: &SessionId) -> StoreResult<()> {
        let mut t = self.lock()?;
        let key = data.user.username.key().to_owned();
        let ours = t
            .users
            .get(&key)
            .is_some_and(|u| u.account_id == data.user.account_id);
        if !ours {
            return Ok(());
        }
        t.end_sessions(&key);
        t.tokens.retain(|_, tok| tok.username.key() != key);
        t.login_failures.remove(&username_run(&key));
        // Each scope's counters of this user: `<scope>#<key>` and the
        // per-client ones under it, `<scope>#<key>#<client>`.
        let scoped: Vec<String> = USER_COUNTER_SCOPES
            .iter()
            .map(|scope| format!("{scope}#{key}"))
            .collect();
        t.counters.retain(|(k, _), _| {
            !scoped.iter().any(|p| {
                k == p
                    || k.strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('#'))
            })
        });
        // Every address this account holds (its own, or a pending one it
        // claimed meanwhile).
        t.emails
            .retain(|_, (k, account)| !(*k == key && *account == data.user.account_id));
        t.users.remove(&key);
        Ok(())
    }
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
