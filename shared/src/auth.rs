//! Sessions: HS256 JWTs bound to a stored session record, cookies and the CSRF rule.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::Request;
use lambda_http::http::Method;
use lambda_http::http::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Config;
use crate::domain::SessionId;
use crate::error::ApiError;
use crate::http::cookie;

/// Name of the cookie holding the JWT (HttpOnly).
pub const ACCESS_COOKIE: &str = "access_token_cookie";
/// Name of the cookie holding the CSRF token (readable by scripts).
pub const CSRF_COOKIE: &str = "csrf_access_token";
/// Header that must repeat the CSRF cookie on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Shortest accepted `JWT_SECRET`, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The 401 message for a missing, invalid or ended session.
pub const NOT_AUTHENTICATED: &str = "authentication required";

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
        username_key: &str,
        sid: &SessionId,
        now: i64,
        expires_at: i64,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            sub: username_key.to_owned(),
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

    fn verify(&self, config: &Config, token: &str, now: i64) -> Option<(String, SessionId)> {
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
        Some((data.claims.sub, SessionId::parse(&data.claims.sid)?))
    }
}

/// Who a request is from, once its JWT verified (the session record is checked by the store call).
#[derive(Debug)]
pub struct Caller {
    /// Username key (`sub`).
    pub username_key: String,
    /// Session id (`sid`).
    pub sid: SessionId,
}

/// Reads and verifies the JWT from `Authorization: Bearer` or the access cookie,
/// enforcing the CSRF rule for cookie-authenticated unsafe methods.
pub fn authenticate(
    keys: &JwtKeys,
    config: &Config,
    req: &Request,
    now: i64,
) -> Result<Caller, ApiError> {
    let unauthorized = || ApiError::Unauthorized(NOT_AUTHENTICATED);
    let (token, from_cookie) = match req.headers().get(AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().map_err(|_| unauthorized())?;
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .ok_or_else(unauthorized)?;
            (token.trim().to_owned(), false)
        }
        None => (cookie(req, ACCESS_COOKIE).ok_or_else(unauthorized)?, true),
    };
    let (username_key, sid) = keys.verify(config, &token, now).ok_or_else(unauthorized)?;
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if from_cookie && !safe {
        let expected = keys.csrf_token(&sid);
        let header = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let cookie_value = cookie(req, CSRF_COOKIE);
        if expected.is_empty()
            || header != Some(expected.as_str())
            || cookie_value.as_deref() != Some(expected.as_str())
        {
            return Err(ApiError::Unauthorized("missing or invalid CSRF token"));
        }
    }
    Ok(Caller { username_key, sid })
}

/// The two login cookies; `max_age` is `None` for browser-session cookies.
pub fn login_cookies(jwt: &str, csrf: &str, max_age: Option<i64>) -> [String; 2] {
    let lifetime = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    [
        format!("{ACCESS_COOKIE}={jwt}; HttpOnly; Secure; SameSite=Lax; Path=/{lifetime}"),
        format!("{CSRF_COOKIE}={csrf}; Secure; SameSite=Lax; Path=/{lifetime}"),
    ]
}

/// Cookies that clear both login cookies.
pub fn logout_cookies() -> [String; 2] {
    const GONE: &str = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    [
        format!("{ACCESS_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; {GONE}"),
        format!("{CSRF_COOKIE}=; Secure; SameSite=Lax; Path=/; {GONE}"),
    ]
}
