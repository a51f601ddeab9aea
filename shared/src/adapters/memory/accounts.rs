//! The in-memory store: accounts: registration, the profile, the password, the address's holder, deletion.

use async_trait::async_trait;

use super::*;
use crate::ports::AccountStore;

#[async_trait]
impl AccountStore for MemoryStore {
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
        t.trail(user, None, Some(EventKind::UserRegistered));
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
            t.activity.remove(&key);
            t.trail(user, None, Some(EventKind::AccountDeleted));
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
        let mut mfa_challenges: Vec<String> = t
            .challenges
            .keys()
            .filter(|(owner, _)| owner == key)
            .map(|(_, hash)| hash.clone())
            .collect();
        mfa_challenges.sort();
        let passkeys = t.passkeys_of(key);
        Ok(Some(AccountData {
            user,
            sessions,
            tokens,
            mfa_challenges,
            passkeys,
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
        t.trail(
            user,
            Some(ActivityKind::PasswordChanged),
            Some(EventKind::PasswordChanged),
        );
        Ok(true)
    }

    async fn security_events(
        &self,
        username: &Username,
        now: i64,
        before: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ActivityRecord>> {
        let t = self.lock()?;
        Ok(t.activity
            .get(username.key())
            .map(|items| {
                items
                    .iter()
                    .rev()
                    .filter(|a| a.expires_at > now && before.is_none_or(|b| a.id.as_str() < b))
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn note_activity(
        &self,
        user: &UserRecord,
        activity: &ActivityRecord,
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        if t.account(user).is_none() {
            return Ok(false);
        }
        t.record(user.username.key(), activity.clone());
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
        t.passkeys.retain(|_, p| p.username.key() != key);
        t.ceremonies
            .retain(|_, c| c.account.as_ref().is_none_or(|(u, _)| u.key() != key));
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
        t.activity.remove(&key);
        if let Some(user) = t.users.remove(&key) {
            t.trail(&user, None, Some(EventKind::AccountDeleted));
        }
        Ok(())
    }
}
