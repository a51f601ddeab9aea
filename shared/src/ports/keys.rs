//! The signing keys a process knows, and where newer ones come from.
//!
//! A rotation makes a new key current everywhere at once in the secret, but
//! a warm Lambda container keeps the keys it read at its cold start. So a
//! token whose `kid` this process does not know makes it read the keys
//! again (at most once per [`REFRESH_COOLDOWN_SECS`], so that forged `kid`s
//! cannot turn requests into secret reads); a token signed with a key that
//! was never current stays refused.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::domain::JwtKeys;

/// The shortest time between two reads of the keys caused by unknown `kid`s.
pub const REFRESH_COOLDOWN_SECS: i64 = 10;

/// Where the keys come from (Secrets Manager in AWS).
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The keys as the source holds them now: current, and previous if any.
    async fn load(&self) -> anyhow::Result<JwtKeys>;
}

/// The keys in use, refreshed from their source when a token names a key
/// this process has not seen.
pub struct KeyRing {
    keys: RwLock<Arc<JwtKeys>>,
    source: Option<Arc<dyn KeySource>>,
    /// When the keys were last read for an unknown `kid` (epoch seconds);
    /// a tokio mutex so that concurrent unknown `kid`s cause one read.
    last_refresh: tokio::sync::Mutex<Option<i64>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing(..)")
    }
}

impl KeyRing {
    /// Keys that never change (the dev server, tests, `JWT_SECRET`).
    pub fn fixed(keys: JwtKeys) -> Self {
        Self {
            keys: RwLock::new(Arc::new(keys)),
            source: None,
            last_refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// Keys read from `source` at start, read again for unknown `kid`s.
    pub fn refreshing(keys: JwtKeys, source: Arc<dyn KeySource>) -> Self {
        Self {
            keys: RwLock::new(Arc::new(keys)),
            source: Some(source),
            last_refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// The keys as known now: the current one signs new tokens.
    pub fn current(&self) -> Arc<JwtKeys> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The keys to verify `token` with: the known ones, or, when the token
    /// names a key this process has not seen and the cooldown allows, the
    /// keys read again from the source. A failed read keeps the known keys
    /// (the token is then refused, as it would have been).
    pub async fn for_token(&self, token: &str, now: i64) -> Arc<JwtKeys> {
        let keys = self.current();
        let (Some(source), Some(kid)) = (&self.source, JwtKeys::kid_of(token)) else {
            return keys;
        };
        if keys.knows(&kid) {
            return keys;
        }
        let mut last = self.last_refresh.lock().await;
        // Another request may have read the keys while this one waited.
        let keys = self.current();
        if keys.knows(&kid) || last.is_some_and(|t| now - t < REFRESH_COOLDOWN_SECS) {
            return keys;
        }
        *last = Some(now);
        match source.load().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                match self.keys.write() {
                    Ok(mut slot) => *slot = fresh.clone(),
                    Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
                }
                tracing::info!(kid = fresh.current_kid(), "signing keys read again");
                fresh
            }
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "reading the signing keys failed"
                );
                keys
            }
        }
    }
}
