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

/// The signing keys, built once per cold start from the secret's bytes.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keyed hash input for CSRF tokens (never leaves the process).
    csrf_key: SecretString,
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

impl JwtKeys {
    /// Keys from the bytes of the secret as given (at least 32 of them).
    pub fn new(secret: &SecretString) -> Result<Self, WeakSecret> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            csrf_key: secret.clone(),
        })
    }

    /// A signed token for a new session.
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
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The CSRF token of a session: derived from the secret and the session id,
    /// so a cookie cannot be forged or moved to another session.
    pub fn csrf_token(&self, sid: &SessionId) -> String {
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

    pub(crate) fn verify(
        &self,
        config: &Config,
        token: &str,
        now: i64,
    ) -> Option<(Username, SessionId)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        // Expiry is checked against our clock below (testable, and exact).
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        if data.claims.exp <= now {
            return None;
        }
        Some((
            Username::parse(&data.claims.sub).ok()?,
            SessionId::parse(&data.claims.sid)?,
        ))
    }
}
