//! Session tokens: HS256 JWTs naming a user and a session, and the CSRF
//! token derived from the same key. Pure crypto; the session record that
//! makes a token valid is checked through the store.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Config;
use crate::domain::{SessionId, Username};
use crate::error::ApiError;

/// Shortest accepted `JWT_SECRET`, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The JWT claims.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

/// One signing key: its id, the JWT keys and the CSRF key from its bytes.
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keyed hash input for CSRF tokens (never leaves the process).
    csrf_key: SecretString,
}

impl SigningKey {
    fn new(secret: &SecretString) -> Result<Self, WeakSecret> {
        super::hs256::install();
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        Ok(Self {
            kid: key_id(bytes),
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            csrf_key: secret.clone(),
        })
    }

    fn csrf_token(&self, sid: &SessionId) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.csrf_key.expose_secret().as_bytes())
        {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        mac.update(b"user_account csrf v1\0");
        mac.update(sid.as_str().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// A key's id (the JWT header's `kid`): 16 characters of a SHA-256 of the
/// key, so that it names the key without telling anything of it (the key
/// is at least 32 random bytes) and needs no configuration.
fn key_id(key: &[u8]) -> String {
    use sha2::Digest;
    let mut hash = Sha256::new();
    hash.update(b"user_account kid v1\0");
    hash.update(key);
    let mut kid = URL_SAFE_NO_PAD.encode(hash.finalize());
    kid.truncate(16);
    kid
}

/// The signing keys: the current one signs and verifies, the previous one
/// (after a rotation) only verifies, until the tokens it signed expire.
pub struct JwtKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

/// Why a secret cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("JWT secret must be at least {MIN_SECRET_BYTES} bytes")]
pub struct WeakSecret;

/// A token that verified: whose, which session, and the CSRF token its
/// cookie must come with (derived from the key that signed it). Its
/// `Debug` shows no CSRF token.
pub struct Verified {
    /// The account (`sub`).
    pub username: Username,
    /// The session (`sid`).
    pub sid: SessionId,
    /// The session's CSRF token.
    pub csrf: String,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from the bytes of the secret as given (at least 32 of them).
    pub fn new(secret: &SecretString) -> Result<Self, WeakSecret> {
        Self::with_previous(secret, None)
    }

    /// The current key, and the previous one a rotation replaced.
    pub fn with_previous(
        current: &SecretString,
        previous: Option<&SecretString>,
    ) -> Result<Self, WeakSecret> {
        let current = SigningKey::new(current)?;
        let previous = match previous {
            Some(p) => Some(SigningKey::new(p)?).filter(|p| p.kid != current.kid),
            None => None,
        };
        Ok(Self { current, previous })
    }

    /// The id of the key that signs new tokens.
    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    /// Whether a key with this id is known (current or previous).
    pub fn knows(&self, kid: &str) -> bool {
        self.key(kid).is_some()
    }

    fn key(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| k.kid == kid)
    }

    /// The `kid` a token's header names, if it has one (unverified).
    pub fn kid_of(token: &str) -> Option<String> {
        jsonwebtoken::decode_header(token).ok()?.kid
    }

    /// A signed token for a new session (with the current key's `kid`).
    pub fn issue(
        &self,
        config: &Config,
        username: &Username,
        sid: &SessionId,
        now: i64,
        expires_at: i64,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            sub: username.key().to_owned(),
            sid: sid.as_str().to_owned(),
            iat: now,
            exp: expires_at,
            iss: config.jwt_issuer.clone(),
            aud: config.jwt_audience.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.current.encoding).map_err(ApiError::internal)
    }

    /// The CSRF token of a new session: derived from the current key and
    /// the session id, so a cookie cannot be forged or moved to another
    /// session.
    pub fn csrf_token(&self, sid: &SessionId) -> String {
        self.current.csrf_token(sid)
    }

    /// Verifies a token with the key its `kid` names (a token without one,
    /// from before keys had ids, with the current key): signature,
    /// algorithm, issuer, audience and expiry.
    pub fn verify(&self, config: &Config, token: &str, now: i64) -> Option<Verified> {
        let key = match Self::kid_of(token) {
            Some(kid) => self.key(&kid)?,
            None => &self.current,
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        // Expiry is checked against our clock below (testable, and exact).
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).ok()?;
        if data.claims.exp <= now {
            return None;
        }
        let sid = SessionId::parse(&data.claims.sid)?;
        Some(Verified {
            username: Username::parse(&data.claims.sub).ok()?,
            csrf: key.csrf_token(&sid),
            sid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(c: char) -> SecretString {
        SecretString::from(c.to_string().repeat(40))
    }

    fn config() -> Config {
        Config::from_lookup(|_| None).unwrap()
    }

    fn token(keys: &JwtKeys, sid: &SessionId) -> String {
        let user = Username::parse("alice").unwrap();
        keys.issue(&config(), &user, sid, 1_000, 2_000).unwrap()
    }

    #[test]
    fn tokens_name_their_key_and_a_rotation_keeps_them_valid() {
        let sid = SessionId::generate().unwrap();
        let before = JwtKeys::new(&secret('a')).unwrap();
        let old = token(&before, &sid);
        assert_eq!(JwtKeys::kid_of(&old).as_deref(), Some(before.current_kid()));

        let after = JwtKeys::with_previous(&secret('b'), Some(&secret('a'))).unwrap();
        let new = token(&after, &sid);
        assert_ne!(JwtKeys::kid_of(&new), JwtKeys::kid_of(&old));

        // Both verify after the rotation, each with its own key's CSRF token.
        let v_old = after.verify(&config(), &old, 1_500).unwrap();
        assert_eq!(v_old.csrf, before.csrf_token(&sid));
        let v_new = after.verify(&config(), &new, 1_500).unwrap();
        assert_eq!(v_new.csrf, after.csrf_token(&sid));
        // The key before the rotation does not know the new one.
        assert!(before.verify(&config(), &new, 1_500).is_none());
        assert!(!before.knows(after.current_kid()));
        // Expiry still holds.
        assert!(after.verify(&config(), &old, 2_000).is_none());
    }

    #[test]
    fn a_key_that_was_never_current_is_refused() {
        let sid = SessionId::generate().unwrap();
        let stranger = JwtKeys::new(&secret('z')).unwrap();
        let forged = token(&stranger, &sid);
        let keys = JwtKeys::with_previous(&secret('b'), Some(&secret('a'))).unwrap();
        assert!(keys.verify(&config(), &forged, 1_500).is_none());
        // Nor does naming a known kid help a token another key signed.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys.current_kid().to_owned());
        let claims = Claims {
            sub: "alice".into(),
            sid: sid.as_str().into(),
            iat: 1_000,
            exp: 2_000,
            iss: config().jwt_issuer,
            aud: config().jwt_audience,
        };
        let lying = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret("z".repeat(40).as_bytes()),
        )
        .unwrap();
        assert!(keys.verify(&config(), &lying, 1_500).is_none());
    }

    #[test]
    fn a_token_without_kid_verifies_with_the_current_key_only() {
        let sid = SessionId::generate().unwrap();
        let claims = Claims {
            sub: "alice".into(),
            sid: sid.as_str().into(),
            iat: 1_000,
            exp: 2_000,
            iss: config().jwt_issuer,
            aud: config().jwt_audience,
        };
        let sign = |c: char| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(c.to_string().repeat(40).as_bytes()),
            )
            .unwrap()
        };
        let keys = JwtKeys::with_previous(&secret('b'), Some(&secret('a'))).unwrap();
        assert!(keys.verify(&config(), &sign('b'), 1_500).is_some());
        assert!(keys.verify(&config(), &sign('a'), 1_500).is_none());
    }
}
