//! [`PasskeyStore`] in memory.

use async_trait::async_trait;

use super::*;
use crate::ports::{AddPasskey, CeremonyRecord, PasskeyRecord, PasskeyStore};

#[async_trait]
impl PasskeyStore for MemoryStore {
    async fn put_ceremony(&self, ceremony: &CeremonyRecord) -> StoreResult<bool> {
        let mut t = self.lock()?;
        t.sweep(ceremony.expires_at - crate::domain::passkey::CEREMONY_TTL_SECS);
        if let Some((username, account)) = &ceremony.account {
            if !t.is_account(username, account) {
                return Ok(false);
            }
        }
        t.ceremonies.insert(ceremony.id.clone(), ceremony.clone());
        Ok(true)
    }

    async fn take_ceremony(&self, id: &str, now: i64) -> StoreResult<Option<CeremonyRecord>> {
        let mut t = self.lock()?;
        Ok(t.ceremonies.remove(id).filter(|c| c.expires_at > now))
    }

    async fn ceremony(&self, id: &str, now: i64) -> StoreResult<Option<CeremonyRecord>> {
        let t = self.lock()?;
        Ok(t.ceremonies.get(id).filter(|c| c.expires_at > now).cloned())
    }

    async fn add_passkey(
        &self,
        user: &UserRecord,
        passkey: &PasskeyRecord,
        ceremony: &str,
    ) -> StoreResult<AddPasskey> {
        let mut t = self.lock()?;
        if t.account(user)
            .is_none_or(|u| u.email_changes != user.email_changes)
        {
            return Ok(AddPasskey::Stale);
        }
        if t.passkeys.contains_key(&passkey.credential.id) {
            return Ok(AddPasskey::Taken);
        }
        if t.ceremonies.remove(ceremony).is_none() {
            return Ok(AddPasskey::CeremonyGone);
        }
        t.passkeys
            .insert(passkey.credential.id.clone(), passkey.clone());
        t.trail(
            user,
            Some(ActivityKind::PasskeyAdded),
            Some(EventKind::PasskeyAdded),
        );
        Ok(AddPasskey::Added)
    }

    async fn passkey_by_id(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<(UserRecord, PasskeyRecord)>> {
        let t = self.lock()?;
        Ok(t.passkeys.get(credential_id).and_then(|p| {
            t.users
                .get(p.username.key())
                .filter(|u| u.account_id == p.account_id)
                .map(|u| (u.clone(), p.clone()))
        }))
    }

    async fn passkeys_of(&self, username: &Username) -> StoreResult<Vec<PasskeyRecord>> {
        let t = self.lock()?;
        Ok(t.passkeys_of(username.key()))
    }

    async fn passkey_used(
        &self,
        passkey: &PasskeyRecord,
        dynamic_state: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        Ok(match t.passkeys.get_mut(&passkey.credential.id) {
            Some(p) if p.credential.dynamic_state == passkey.credential.dynamic_state => {
                p.credential.dynamic_state = dynamic_state.to_owned();
                p.last_used_at = Some(now);
                true
            }
            _ => false,
        })
    }

    async fn remove_passkey(&self, user: &UserRecord, credential_id: &str) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let ours = t.passkeys.get(credential_id).is_some_and(|p| {
            p.username.key() == user.username.key() && p.account_id == user.account_id
        });
        let ours = ours && t.account(user).is_some();
        if ours {
            t.passkeys.remove(credential_id);
            t.trail(
                user,
                Some(ActivityKind::PasskeyRemoved),
                Some(EventKind::PasskeyRemoved),
            );
        }
        Ok(ours)
    }
}

impl Tables {
    /// `username_key`'s passkeys, newest first.
    pub(super) fn passkeys_of(&self, username_key: &str) -> Vec<PasskeyRecord> {
        let mut list: Vec<PasskeyRecord> = self
            .passkeys
            .values()
            .filter(|p| p.username.key() == username_key)
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.credential.id.cmp(&b.credential.id))
        });
        list
    }
}
