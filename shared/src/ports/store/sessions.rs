//! Sessions: sign-in writes, the signed-in checks, the password re-entered inside a session, sign-outs.

use async_trait::async_trait;

use super::*;

/// Sessions: sign-in writes, the signed-in checks, the password re-entered inside a session, sign-outs.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session, but only while its account exists (`false`,
    /// nothing written, when it is gone); with `clear`, also ends that
    /// failed-login run.
    async fn create_session(
        &self,
        session: &SessionRecord,
        clear: Option<&FailureRun>,
    ) -> StoreResult<bool>;

    /// Ends the user's oldest sessions so that at most `keep` remain,
    /// `current` (the one just created) always among them; returns how many
    /// ended. Keeps the number of sessions, and so the work of ending all of
    /// them, bounded.
    async fn end_sessions_beyond(
        &self,
        username: &Username,
        keep: usize,
        current: &SessionId,
    ) -> StoreResult<usize>;

    /// The user owning a live session, or `None` when the session is gone,
    /// expired, or from before the user's latest password reset.
    async fn session_user(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        Ok(self
            .session_user_until(username, sid, now)
            .await?
            .map(|(user, _)| user))
    }

    /// [`SessionStore::session_user`], with when the session expires (one read).
    async fn session_user_until(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<Option<(UserRecord, i64)>>;

    /// [`SessionStore::session_user`] and the session's run of wrong
    /// passwords re-entered, read at once: for a signed-in user about to
    /// re-enter a password.
    async fn session_user_and_failures(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
    ) -> StoreResult<(Option<UserRecord>, u32)>;

    /// Counts a password re-entered in session `sid` before it is checked,
    /// only if the session is live and its run is still `seen`: of
    /// concurrent attempts one wins, the others get `false`.
    async fn claim_password_attempt(
        &self,
        username: &Username,
        sid: &SessionId,
        seen: u32,
        now: i64,
    ) -> StoreResult<bool>;

    /// Ends session `sid`'s run of wrong passwords (a right one was given).
    async fn clear_password_failures(
        &self,
        username: &Username,
        sid: &SessionId,
    ) -> StoreResult<()>;

    /// Deletes a live session and records `kind` (`sign_out` for the
    /// caller's own, `session_ended` for another); `false` when it was
    /// already gone or expired (nothing recorded).
    async fn delete_session(
        &self,
        username: &Username,
        sid: &SessionId,
        now: i64,
        kind: ActivityKind,
    ) -> StoreResult<bool>;

    /// Ends every session of `user`'s account at once, by moving its
    /// session epoch on (so a login racing this cannot leave a live
    /// session; links and devices are untouched); the session items are
    /// deleted afterwards. `false` when the account is gone.
    async fn end_all_sessions(&self, user: &UserRecord) -> StoreResult<bool>;
}
