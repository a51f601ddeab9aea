//! The service tokens' keys in use, read again from their source when older
//! than [`MAX_KEY_AGE_SECS`]: after a rotation, every warm container signs
//! with the new key and publishes it (and the previous one) within that time.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::domain::service_token::ServiceKeys;
use crate::ports::MAX_KEY_AGE_SECS;

/// Where the keys come from (Secrets Manager in AWS).
#[async_trait]
pub trait ServiceKeySource: Send + Sync {
    /// The keys as the source holds them now.
    async fn load(&self) -> anyhow::Result<ServiceKeys>;
}

/// The keys in use.
pub struct ServiceKeyRing {
    keys: RwLock<(Arc<ServiceKeys>, i64)>,
    source: Option<Arc<dyn ServiceKeySource>>,
    reading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ServiceKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceKeyRing(..)")
    }
}

impl ServiceKeyRing {
    /// Keys that never change (the dev server, tests, `SERVICE_KEY_PEM`).
    pub fn fixed(keys: ServiceKeys) -> Self {
        Self {
            keys: RwLock::new((Arc::new(keys), i64::MAX / 2)),
            source: None,
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// Keys read from `source` at `now`, read again as the module says.
    pub fn refreshing(keys: ServiceKeys, source: Arc<dyn ServiceKeySource>, now: i64) -> Self {
        Self {
            keys: RwLock::new((Arc::new(keys), now)),
            source: Some(source),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    fn held(&self) -> (Arc<ServiceKeys>, i64) {
        match self.keys.read() {
            Ok(k) => (k.0.clone(), k.1),
            Err(poisoned) => {
                let k = poisoned.into_inner();
                (k.0.clone(), k.1)
            }
        }
    }

    /// The keys, read again first when they are older than the limit (a
    /// failed read keeps the keys held, and is tried again at the next use).
    pub async fn current(&self, now: i64) -> Arc<ServiceKeys> {
        let (keys, loaded_at) = self.held();
        let Some(source) = &self.source else {
            return keys;
        };
        if now - loaded_at < MAX_KEY_AGE_SECS {
            return keys;
        }
        let _one_at_a_time = self.reading.lock().await;
        let (keys, loaded_at) = self.held();
        if now - loaded_at < MAX_KEY_AGE_SECS {
            return keys;
        }
        match source.load().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                if let Ok(mut k) = self.keys.write() {
                    *k = (fresh.clone(), now);
                }
                fresh
            }
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "service keys not read again");
                keys
            }
        }
    }
}
