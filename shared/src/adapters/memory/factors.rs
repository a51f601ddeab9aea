//! [`FactorStore`] in memory.

use async_trait::async_trait;

use super::*;
use crate::ports::{FactorStore, FactorUse, MfaChallenge};

#[async_trait]
impl FactorStore for MemoryStore {
    async fn set_pending_totp(&self, user: &UserRecord, sealed: &str) -> StoreResult<bool> {
        let mut t = self.lock()?;
        Ok(match t.account_mut(user) {
            Some(u) => {
                u.totp_pending = Some(sealed.to_owned());
                true
            }
            None => false,
        })
    }

    async fn enable_totp(
        &self,
        user: &UserRecord,
        sealed: &str,
        step: u64,
        codes: &[String],
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let done = match t.account_mut(user) {
            Some(u)
                if u.totp_pending.as_deref() == Some(sealed)
                    && u.email_changes == user.email_changes =>
            {
                u.totp_secret = Some(sealed.to_owned());
                u.totp_pending = None;
                u.totp_step = step;
                u.recovery_codes = codes.iter().map(|c| (c.clone(), 1)).collect();
                u.mfa_since = u.email_changes;
                true
            }
            _ => false,
        };
        if done {
            t.trail(
                user,
                Some(ActivityKind::MfaEnabled),
                Some(EventKind::MfaEnabled),
            );
        }
        Ok(done)
    }

    async fn replace_recovery_codes(
        &self,
        user: &UserRecord,
        codes: &[String],
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let done = match t.account_mut(user) {
            Some(u)
                if u.totp_secret.is_some()
                    && u.totp_secret == user.totp_secret
                    && u.email_changes == user.email_changes =>
            {
                u.recovery_codes = codes.iter().map(|c| (c.clone(), 1)).collect();
                u.mfa_since = u.email_changes;
                true
            }
            _ => false,
        };
        if done {
            t.trail(user, Some(ActivityKind::RecoveryCodesRenewed), None);
        }
        Ok(done)
    }

    async fn disable_totp(&self, user: &UserRecord) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let done = match t.account_mut(user) {
            Some(u) => {
                u.totp_secret = None;
                u.totp_pending = None;
                u.recovery_codes.clear();
                true
            }
            None => false,
        };
        if done {
            t.trail(
                user,
                Some(ActivityKind::MfaDisabled),
                Some(EventKind::MfaDisabled),
            );
        }
        Ok(done)
    }

    async fn use_factor(&self, user: &UserRecord, used: &FactorUse) -> StoreResult<bool> {
        let mut t = self.lock()?;
        Ok(t.account_mut(user)
            .is_some_and(|u| use_factor(u, user, used)))
    }

    async fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<bool> {
        let mut t = self.lock()?;
        t.sweep(challenge.expires_at - crate::domain::MFA_TOKEN_TTL_SECS);
        if !t.is_account(&challenge.username, &challenge.account_id) {
            return Ok(false);
        }
        t.challenges.insert(
            (challenge.username.key().to_owned(), challenge.hash.clone()),
            challenge.clone(),
        );
        Ok(true)
    }

    async fn mfa_login_state(
        &self,
        username: &Username,
        hash: &str,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<(LoginState, Option<MfaChallenge>)> {
        let t = self.lock()?;
        let state = LoginState {
            user: t.users.get(username.key()).cloned(),
            failures: t.run(&FailureRun::Username(username.clone()).key(), now),
            device_failures: device
                .map(|d| t.run(&FailureRun::Device(d.clone()).key(), now))
                .unwrap_or_default(),
        };
        let challenge = t
            .challenges
            .get(&(username.key().to_owned(), hash.to_owned()))
            .filter(|c| c.expires_at > now)
            .cloned();
        Ok((state, challenge))
    }

    async fn claim_mfa_attempt(&self, challenge: &MfaChallenge, now: i64) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let key = (challenge.username.key().to_owned(), challenge.hash.clone());
        Ok(match t.challenges.get_mut(&key) {
            Some(c) if c.expires_at > now && c.fails == challenge.fails => {
                c.fails += 1;
                true
            }
            _ => false,
        })
    }

    async fn finish_mfa_login(
        &self,
        challenge: &MfaChallenge,
        user: &UserRecord,
        used: &FactorUse,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool> {
        let mut t = self.lock()?;
        let key = (challenge.username.key().to_owned(), challenge.hash.clone());
        let pending = t
            .challenges
            .get(&key)
            .is_some_and(|c| c.expires_at > session.created_at);
        // As DynamoDB's conditions: the account as at the password step.
        let passkey_usable = |t: &Tables| match used {
            FactorUse::Passkey {
                credential_id, old, ..
            } => t.passkeys.get(credential_id).is_some_and(|p| {
                p.credential.dynamic_state == *old && p.account_id == user.account_id
            }),
            _ => false,
        };
        let usable = t.account(user).is_some_and(|u| {
            let mut copy = u.clone();
            u.reset_epoch == challenge.reset_epoch
                && u.session_epoch == challenge.session_epoch
                && (use_factor(&mut copy, user, used) || passkey_usable(&t))
        });
        if !pending || !usable {
            return Ok(false);
        }
        t.challenges.remove(&key);
        if let FactorUse::Passkey {
            credential_id, new, ..
        } = used
        {
            if let Some(p) = t.passkeys.get_mut(credential_id) {
                p.credential.dynamic_state = new.clone();
                p.last_used_at = Some(session.created_at);
            }
        } else if let Some(u) = t.account_mut(user) {
            use_factor(u, user, used);
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

    async fn delete_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<()> {
        let mut t = self.lock()?;
        t.challenges
            .remove(&(challenge.username.key().to_owned(), challenge.hash.clone()));
        Ok(())
    }
}

/// Uses `used` on `stored` (the account now), only for the TOTP secret
/// `read` had: the DynamoDB conditions.
fn use_factor(stored: &mut UserRecord, read: &UserRecord, used: &FactorUse) -> bool {
    if stored.totp_secret.is_none() || stored.totp_secret != read.totp_secret {
        return false;
    }
    match used {
        FactorUse::Step(step) if *step > stored.totp_step => {
            stored.totp_step = *step;
            true
        }
        FactorUse::Step(_) => false,
        FactorUse::Recovery(hash) => stored.recovery_codes.remove(hash).is_some(),
        // A passkey is not on the profile (see `finish_mfa_login`).
        FactorUse::Passkey { .. } => false,
    }
}
