//! The in-memory store: abuse limits: failed-login runs and fixed-window counters.

use async_trait::async_trait;

use super::*;
use crate::ports::LimitStore;

#[async_trait]
impl LimitStore for MemoryStore {
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

    async fn forget_login_failures(&self, run: &FailureRun) -> StoreResult<()> {
        self.lock()?.login_failures.remove(&run.key());
        Ok(())
    }
}
