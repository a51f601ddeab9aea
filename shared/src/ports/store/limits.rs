//! Abuse limits: failed-login runs and fixed-window counters.

use async_trait::async_trait;

use super::*;

/// Abuse limits: failed-login runs and fixed-window counters.
#[async_trait]
pub trait LimitStore: Send + Sync {
    /// The user (if any), the username's failed-login run and, when
    /// `device` is given, that device's run: one read.
    async fn login_state(
        &self,
        username: &Username,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<LoginState>;

    /// Counts a login attempt against `run` before its password is checked,
    /// but only if the run is still what [`LimitStore::login_state`] returned
    /// (`seen`): of concurrent attempts, one wins and the others get
    /// `false`, so a burst cannot test more passwords than the lockout
    /// allows. The run is forgotten after `expires_at`; a successful login
    /// ends it. `attempt` names this attempt, so that a write the adapter
    /// retried (after a timeout, say) is recognised as its own rather than
    /// a rival's.
    async fn claim_login_attempt(
        &self,
        run: &FailureRun,
        seen: LoginFailures,
        now: i64,
        expires_at: i64,
        attempt: &SessionId,
    ) -> StoreResult<bool>;

    /// Counts a hit against a fixed-window cap; `false` when the cap was reached.
    async fn hit(&self, cap: &RateCap) -> StoreResult<bool>;

    /// Takes back one hit of `cap`'s window (never below zero; nothing when
    /// the window is gone).
    async fn refund(&self, cap: &RateCap) -> StoreResult<()>;

    /// Counts a hit against a cap of `user`'s own (removed with the
    /// account), only while that account exists: `Capped` past the limit,
    /// `Stale` when the account is gone (nothing counted).
    async fn hit_for_account(&self, cap: &RateCap, user: &UserRecord) -> StoreResult<WriteOutcome>;

    /// Ends a failed-login run (a correct password was given).
    async fn forget_login_failures(&self, run: &FailureRun) -> StoreResult<()>;
}
