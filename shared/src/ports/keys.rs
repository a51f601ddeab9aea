//! The signing keys a process knows, and where newer ones come from.
//!
//! A rotation makes a new key current in the secret at once, but a warm
//! Lambda container keeps the keys it read at its cold start. So the keys
//! are read again:
//! - when they are older than [`MAX_KEY_AGE_SECS`], before the next token is
//!   signed or verified: every container follows a rotation within that
//!   time, also one (login) that only signs;
//! - when a token names a key this process has not seen (a container that
//!   started after the rotation signed it), at most once per
//!   [`REFRESH_COOLDOWN_SECS`], so that forged `kid`s cannot turn requests
//!   into secret reads. A token signed with a key that was never current
//!   stays refused.
//!
//! A failed read keeps the keys held, and is not retried before the
//! cooldown has passed.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::domain::JwtKeys;

/// The shortest time between two reads of the keys caused by unknown `kid`s.
pub const REFRESH_COOLDOWN_SECS: i64 = 10;
/// Keys older than this are read again before their next use.
pub const MAX_KEY_AGE_SECS: i64 = 300;

/// Where the keys come from (Secrets Manager in AWS).
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The keys as the source holds them now: current, and previous if any.
    async fn load(&self) -> anyhow::Result<JwtKeys>;
}

/// The keys in use, refreshed from their source (see the module docs).
pub struct KeyRing {
    keys: RwLock<Arc<JwtKeys>>,
    source: Option<Arc<dyn KeySource>>,
    /// When the keys held were read (epoch seconds).
    loaded_at: AtomicI64,
    /// When the keys were last asked for (epoch seconds), whatever came of
    /// it; a tokio mutex so that concurrent requests cause one read.
    last_attempt: tokio::sync::Mutex<i64>,
    /// Whether the last read failed (until one succeeds).
    last_failed: AtomicBool,
}

/// The keys could not be read, and the token names a key not held: an
/// outage (503, or a failed authorizer invocation), not a refusal.
#[derive(Debug)]
pub struct KeysUnavailable;

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
            loaded_at: AtomicI64::new(0),
            last_attempt: tokio::sync::Mutex::new(0),
            last_failed: AtomicBool::new(false),
        }
    }

    /// Keys read from `source` at `now` (the cold start), read again as
    /// the module docs say.
    pub fn refreshing(keys: JwtKeys, source: Arc<dyn KeySource>, now: i64) -> Self {
        Self {
            keys: RwLock::new(Arc::new(keys)),
            source: Some(source),
            loaded_at: AtomicI64::new(now),
            // The cold start read the current key only: the first token
            // naming another (the previous key's, after a rotation) may
            // read the secret at once.
            last_attempt: tokio::sync::Mutex::new(i64::MIN / 2),
            last_failed: AtomicBool::new(false),
        }
    }

    fn held(&self) -> Arc<JwtKeys> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn stale(&self, now: i64) -> bool {
        self.source.is_some() && now - self.loaded_at.load(Ordering::Acquire) >= MAX_KEY_AGE_SECS
    }

    /// The keys to sign a new token with (read again first if they are old).
    pub async fn signing(&self, now: i64) -> Arc<JwtKeys> {
        if self.stale(now) {
            self.refresh(now, None).await
        } else {
            self.held()
        }
    }

    /// The keys to verify `token` with: those held, or read again first
    /// when they are old or the token names a key not among them. When the
    /// token names a key not held and the keys could not be read (the last
    /// read failed), [`KeysUnavailable`]: that token may be good, and a
    /// refusal would be wrong (and cached by an authorizer's caller).
    pub async fn for_token(&self, token: &str, now: i64) -> Result<Arc<JwtKeys>, KeysUnavailable> {
        let keys = self.held();
        if self.source.is_none() {
            return Ok(keys);
        }
        let unknown = JwtKeys::kid_of(token).filter(|kid| !keys.knows(kid));
        if unknown.is_none() && !self.stale(now) {
            return Ok(keys);
        }
        let keys = self.refresh(now, unknown.as_deref()).await;
        match unknown {
            Some(kid) if !keys.knows(&kid) && self.last_failed.load(Ordering::Acquire) => {
                Err(KeysUnavailable)
            }
            _ => Ok(keys),
        }
    }

    /// Reads the keys again, unless another request just did, or a read
    /// for an unknown `kid` (or a failed one) is within the cooldown.
    async fn refresh(&self, now: i64, unknown_kid: Option<&str>) -> Arc<JwtKeys> {
        let Some(source) = &self.source else {
            return self.held();
        };
        let mut last = self.last_attempt.lock().await;
        // Another request may have read the keys while this one waited.
        let keys = self.held();
        let stale = self.stale(now);
        let wanted = unknown_kid.is_some_and(|kid| !keys.knows(kid));
        let cooling = now - *last < REFRESH_COOLDOWN_SECS;
        if !(stale || wanted) || cooling {
            return keys;
        }
        *last = now;
        match source.load().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                match self.keys.write() {
                    Ok(mut slot) => *slot = fresh.clone(),
                    Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
                }
                self.loaded_at.store(now, Ordering::Release);
                self.last_failed.store(false, Ordering::Release);
                tracing::info!(kid = fresh.current_kid(), "signing keys read again");
                fresh
            }
            Err(err) => {
                self.last_failed.store(true, Ordering::Release);
                tracing::warn!(
                    error = format!("{err:#}"),
                    "reading the signing keys failed; keeping the ones held"
                );
                keys
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use secrecy::SecretString;

    use super::*;
    use crate::config::Config;
    use crate::domain::{SessionId, Username};

    /// A source whose current key the test sets, counting its reads.
    struct Counting {
        key: Mutex<char>,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl KeySource for Counting {
        async fn load(&self) -> anyhow::Result<JwtKeys> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let c = *self.key.lock().unwrap();
            Ok(JwtKeys::new(&SecretString::from(c.to_string().repeat(40)))?)
        }
    }

    fn keys(c: char) -> JwtKeys {
        JwtKeys::new(&SecretString::from(c.to_string().repeat(40))).unwrap()
    }

    fn token(keys: &JwtKeys) -> String {
        let config = Config::from_lookup(|_| None).unwrap();
        let sid = SessionId::generate().unwrap();
        keys.issue(&config, &Username::parse("alice").unwrap(), &sid, 0, 10_000)
            .unwrap()
    }

    fn ring(source: &Arc<Counting>) -> KeyRing {
        KeyRing::refreshing(keys('a'), source.clone(), 1_000)
    }

    fn counting(c: char) -> Arc<Counting> {
        Arc::new(Counting {
            key: Mutex::new(c),
            reads: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn forged_kids_read_the_secret_at_most_once_per_cooldown() {
        let source = counting('a');
        let ring = ring(&source);
        let forged = token(&keys('z'));
        // The first unknown kid after the cold start reads at once; the
        // next ones within the cooldown do not.
        for _ in 0..50 {
            let _ = ring.for_token(&forged, 1_000).await;
        }
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
        let _ = ring.for_token(&forged, 1_009).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
        let _ = ring.for_token(&forged, 1_010).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 2);
        // A known kid never reads (until the keys are old).
        let known = token(&keys('a'));
        let _ = ring.for_token(&known, 1_100).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 2);
        // The previous key's token right after a cold start is accepted at
        // once: the first unknown kid is read for without waiting.
        let fresh = KeyRing::refreshing(keys('a'), source.clone(), 1_000);
        *source.key.lock().unwrap() = 'b';
        let previous_signed = token(&keys('z'));
        let _ = fresh.for_token(&previous_signed, 1_000).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_signing_only_container_follows_a_rotation_within_the_max_age() {
        let source = counting('a');
        let ring = ring(&source);
        *source.key.lock().unwrap() = 'b';
        let before = ring.signing(1_000 + MAX_KEY_AGE_SECS - 1).await;
        let after = ring.signing(1_000 + MAX_KEY_AGE_SECS).await;
        assert_eq!(before.current_kid(), keys('a').current_kid());
        assert_eq!(after.current_kid(), keys('b').current_kid());
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
        // And the next read only after another max age.
        ring.signing(1_000 + 2 * MAX_KEY_AGE_SECS - 1).await;
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);
    }

    /// A source that cannot be read.
    struct Failing;

    #[async_trait]
    impl KeySource for Failing {
        async fn load(&self) -> anyhow::Result<JwtKeys> {
            anyhow::bail!("Secrets Manager is down (test)")
        }
    }

    #[tokio::test]
    async fn an_unknown_key_while_the_keys_cannot_be_read_is_an_outage_not_a_refusal() {
        let down = KeyRing::refreshing(keys('a'), Arc::new(Failing), 1_000);
        let newer = token(&keys('b'));
        let known = token(&keys('a'));

        // Read for at once and failed; then within the cooldown, still failed.
        assert!(down.for_token(&newer, 1_000).await.is_err());
        assert!(down.for_token(&newer, 1_005).await.is_err());
        // A token of a key held verifies as ever.
        let k = down.for_token(&known, 1_005).await.unwrap();
        assert!(k.knows(keys('a').current_kid()));
        // With a source that answers, an unknown (forged) key is a refusal.
        let source = counting('a');
        let up = ring(&source);
        let forged = up.for_token(&newer, 1_000).await.unwrap();
        assert!(!forged.knows(keys('b').current_kid()));
    }

    #[tokio::test]
    async fn fixed_keys_are_never_read_again() {
        let ring = KeyRing::fixed(keys('a'));
        let forged = token(&keys('z'));
        let k = ring.for_token(&forged, i64::MAX / 2).await.unwrap();
        assert_eq!(k.current_kid(), keys('a').current_kid());
        let k = ring.signing(i64::MAX / 2).await;
        assert_eq!(k.current_kid(), keys('a').current_kid());
    }
}
