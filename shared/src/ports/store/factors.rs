//! Second factors: TOTP and recovery codes, and sign-ins waiting for one.

use async_trait::async_trait;

use super::*;

/// Second factors: TOTP and recovery codes, and sign-ins waiting for one.
/// Every write is conditional on the account being `user.account_id`, live.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// Sets `user`'s pending TOTP secret (sealed), replacing an unconfirmed
    /// one. `false` when the account is gone.
    async fn set_pending_totp(&self, user: &UserRecord, sealed: &str) -> StoreResult<bool>;

    /// Turns TOTP on with the pending secret `sealed` (only while it is
    /// still the pending one), `step` as its last step used, `codes` (keyed
    /// hashes) as the recovery codes, in place of any earlier factor; marks
    /// them enrolled at the account's current change of address. `false`
    /// when the account changed meanwhile.
    async fn enable_totp(
        &self,
        user: &UserRecord,
        sealed: &str,
        step: u64,
        codes: &[String],
    ) -> StoreResult<bool>;

    /// Replaces the recovery codes, while TOTP is on with the secret read.
    async fn replace_recovery_codes(
        &self,
        user: &UserRecord,
        codes: &[String],
    ) -> StoreResult<bool>;

    /// Turns TOTP off: the secret, a pending setup and the codes go.
    async fn disable_totp(&self, user: &UserRecord) -> StoreResult<bool>;

    /// Uses a factor of `user`'s current TOTP: a step above the last one
    /// used, or an unused recovery code. `false` when it was used already
    /// (a replay, or a race lost) or the account changed.
    async fn use_factor(&self, user: &UserRecord, used: &FactorUse) -> StoreResult<bool>;

    /// Stores a sign-in waiting for its second factor, only while its
    /// account exists. `false` when it is gone.
    async fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<bool>;

    /// What the second step of a sign-in reads at once: the account and its
    /// failure runs (as [`SessionStore`]'s `login_state`), and the pending
    /// sign-in `hash` of `username`, if it is there and not expired.
    async fn mfa_login_state(
        &self,
        username: &Username,
        hash: &str,
        device: Option<&DeviceId>,
        now: i64,
    ) -> StoreResult<(LoginState, Option<MfaChallenge>)>;

    /// Counts a code against the pending sign-in before it is checked, only
    /// while it is live and its count is still `challenge.fails`: of
    /// concurrent attempts one wins.
    async fn claim_mfa_attempt(&self, challenge: &MfaChallenge, now: i64) -> StoreResult<bool>;

    /// The second step's success, at once: the pending sign-in is consumed,
    /// the factor used, the session stored and the failure run `clear`
    /// ended. `false` (nothing written) when any of it was no longer so.
    async fn finish_mfa_login(
        &self,
        challenge: &MfaChallenge,
        user: &UserRecord,
        used: &FactorUse,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool>;

    /// Deletes a pending sign-in (it had too many wrong codes).
    async fn delete_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<()>;
}
