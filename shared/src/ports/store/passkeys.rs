//! Passkeys and their ceremonies.

use async_trait::async_trait;

use super::*;

/// What adding a passkey did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddPasskey {
    /// Stored.
    Added,
    /// The credential id belongs to an account already.
    Taken,
    /// The account is gone (or its deletion began), or not as read (an
    /// address change since: a revert must find every passkey added after it).
    Stale,
    /// The ceremony was taken meanwhile (a concurrent answer to it).
    CeremonyGone,
}

/// Passkeys and their ceremonies.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Stores a ceremony; one bound to an account only while that account
    /// exists (`false` otherwise).
    async fn put_ceremony(&self, ceremony: &CeremonyRecord) -> StoreResult<bool>;

    /// Takes (deletes and returns) the ceremony `id`, if it is there and not
    /// expired: of two answers to one ceremony, one gets it.
    async fn take_ceremony(&self, id: &str, now: i64) -> StoreResult<Option<CeremonyRecord>>;

    /// The ceremony `id`, if it is there and not expired, left in place.
    async fn ceremony(&self, id: &str, now: i64) -> StoreResult<Option<CeremonyRecord>>;

    /// Adds `passkey` to `user`'s account (as read: it must still exist,
    /// with the same count of address changes), consuming the registration
    /// ceremony `ceremony` in the same write: the credential id is claimed
    /// for it at once.
    async fn add_passkey(
        &self,
        user: &UserRecord,
        passkey: &PasskeyRecord,
        ceremony: &str,
    ) -> StoreResult<AddPasskey>;

    /// The passkey with this credential id (base64url) and its account, as
    /// a sign-in reads them: the owner's user and the credential.
    async fn passkey_by_id(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<(UserRecord, PasskeyRecord)>>;

    /// The account's passkeys.
    async fn passkeys_of(&self, username: &Username) -> StoreResult<Vec<PasskeyRecord>>;

    /// Records a sign-in with `passkey`: its new dynamic state (counter)
    /// and when, only if its state is still the one read (`false`: another
    /// sign-in with it won, or it was removed).
    async fn passkey_used(
        &self,
        passkey: &PasskeyRecord,
        dynamic_state: &str,
        now: i64,
    ) -> StoreResult<bool>;

    /// Removes `user`'s passkey `credential_id` and its claim; `false` when
    /// the account has no such passkey.
    async fn remove_passkey(&self, user: &UserRecord, credential_id: &str) -> StoreResult<bool>;
}
