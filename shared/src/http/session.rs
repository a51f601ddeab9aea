//! Sessions at the HTTP edge: the JWT from `Authorization: Bearer` or the
//! access cookie, the CSRF rule for cookie-authenticated writes, and the
//! login and logout cookies.

use lambda_http::Request;
use lambda_http::http::Method;
use lambda_http::http::header::AUTHORIZATION;

use crate::config::Config;
use crate::domain::{SessionId, Username};
use crate::error::ApiError;
use crate::http::request::cookie;
use crate::ports::KeyRing;

/// Name of the cookie holding the JWT (HttpOnly).
pub const ACCESS_COOKIE: &str = "access_token_cookie";
/// Name of the cookie holding the CSRF token (readable by scripts).
pub const CSRF_COOKIE: &str = "csrf_access_token";
/// Header that must repeat the CSRF cookie on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The 401 message for a missing, invalid or ended session.
pub const NOT_AUTHENTICATED: &str = "authentication required";

/// Who a request is from, once its JWT verified (the session record is checked by the store call).
#[derive(Debug)]
pub struct Caller {
    /// The account (`sub`, its key).
    pub username: Username,
    /// Session id (`sid`).
    pub sid: SessionId,
}

/// Reads and verifies the JWT from `Authorization: Bearer` or the access cookie,
/// enforcing the CSRF rule for cookie-authenticated unsafe methods.
pub async fn authenticate(
    keys: &KeyRing,
    config: &Config,
    req: &Request,
    now: i64,
) -> Result<Caller, ApiError> {
    let safe_method = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    authenticate_as(keys, config, req, now, safe_method).await
}

/// [`authenticate`] for a request that changes something whatever its
/// method (`GET /api/logout`): a cookie session needs the CSRF header.
pub async fn authenticate_write(
    keys: &KeyRing,
    config: &Config,
    req: &Request,
    now: i64,
) -> Result<Caller, ApiError> {
    authenticate_as(keys, config, req, now, false).await
}

async fn authenticate_as(
    keys: &KeyRing,
    config: &Config,
    req: &Request,
    now: i64,
    safe_method: bool,
) -> Result<Caller, ApiError> {
    let authorization = match req.headers().get(AUTHORIZATION) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::Unauthorized(NOT_AUTHENTICATED))?,
        ),
        None => None,
    };
    let credentials = Credentials {
        authorization,
        access_cookie: cookie(req, ACCESS_COOKIE),
        csrf_cookie: cookie(req, CSRF_COOKIE),
        csrf_header: req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()),
        safe_method,
    };
    credentials.verify(keys, config, now).await
}

/// What a request carries that can authenticate it, wherever it came from
/// (an API request, or an authorizer's event). Its `Debug` shows no value.
pub struct Credentials<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The access cookie's value.
    pub access_cookie: Option<String>,
    /// The CSRF cookie's value.
    pub csrf_cookie: Option<String>,
    /// The `X-CSRF-TOKEN` header.
    pub csrf_header: Option<&'a str>,
    /// GET, HEAD or OPTIONS (no CSRF check).
    pub safe_method: bool,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("authorization", &self.authorization.map(|_| ".."))
            .field("access_cookie", &self.access_cookie.as_ref().map(|_| ".."))
            .field("safe_method", &self.safe_method)
            .finish_non_exhaustive()
    }
}

impl Credentials<'_> {
    /// The bearer token if there is an `Authorization` header (which then
    /// must be a bearer token), else the access cookie; whether it came
    /// from the cookie.
    fn token(&self) -> Option<(String, bool)> {
        match self.authorization {
            Some(value) => {
                let token = value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))?;
                Some((token.trim().to_owned(), false))
            }
            None => Some((self.access_cookie.clone()?, true)),
        }
    }

    /// The caller, once the token verified (signature, claims, the key its
    /// `kid` names) and, for a cookie on an unsafe method, the CSRF header
    /// and cookie both match the session's CSRF token. The session record
    /// is checked by the store call that follows.
    pub async fn verify(
        &self,
        keys: &KeyRing,
        config: &Config,
        now: i64,
    ) -> Result<Caller, ApiError> {
        let unauthorized = || ApiError::Unauthorized(NOT_AUTHENTICATED);
        let (token, from_cookie) = self.token().ok_or_else(unauthorized)?;
        let verified = keys
            .for_token(&token, now)
            .await
            .map_err(|_| {
                ApiError::Unavailable(anyhow::anyhow!(
                    "the token names a signing key that could not be read"
                ))
            })?
            .verify(config, &token, now)
            .ok_or_else(unauthorized)?;
        if from_cookie && !self.safe_method {
            let expected = verified.csrf.as_str();
            if expected.is_empty()
                || self.csrf_header != Some(expected)
                || self.csrf_cookie.as_deref() != Some(expected)
            {
                return Err(ApiError::Unauthorized("missing or invalid CSRF token"));
            }
        }
        Ok(Caller {
            username: verified.username,
            sid: verified.sid,
        })
    }
}

/// `; Domain=<COOKIE_DOMAIN>`, or nothing (host-only cookies).
fn domain(config: &Config) -> String {
    config
        .cookie_domain
        .as_ref()
        .map(|d| format!("; Domain={d}"))
        .unwrap_or_default()
}

/// The two login cookies; `max_age` is `None` for browser-session cookies.
pub fn login_cookies(config: &Config, jwt: &str, csrf: &str, max_age: Option<i64>) -> [String; 2] {
    let lifetime = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let domain = domain(config);
    [
        format!("{ACCESS_COOKIE}={jwt}; HttpOnly; Secure; SameSite=Lax; Path=/{domain}{lifetime}"),
        format!("{CSRF_COOKIE}={csrf}; Secure; SameSite=Lax; Path=/{domain}{lifetime}"),
    ]
}

/// The device cookie (`device_token`): HttpOnly, for the API's paths only,
/// one year. Logout leaves it: it names the device, not the session.
pub fn device_cookie(config: &Config, token: &str) -> String {
    format!(
        "{}={token}; HttpOnly; Secure; SameSite=Lax; Path=/api{}; Max-Age={}",
        crate::domain::DEVICE_COOKIE,
        domain(config),
        crate::domain::DEVICE_TTL_SECS
    )
}

/// `reply` with a new device token for `account` in device `epoch` (in
/// `data.device_token` and its cookie), for an answer after a change has
/// been written: if the token cannot be made (no randomness), the answer
/// goes without it rather than a 5xx the retry of a done change would trip
/// over; the client simply is not trusted yet.
pub fn with_device_token(
    reply: crate::http::Reply,
    config: &Config,
    key: &crate::domain::DeviceKey,
    account: &crate::domain::AccountId,
    epoch: u64,
    now: i64,
) -> crate::http::Reply {
    match key.issue(account, epoch, now) {
        Ok(token) => reply
            .with_data(serde_json::json!({ "device_token": token }))
            .with_cookie(device_cookie(config, &token)),
        Err(err) => {
            tracing::warn!(error = %err, "no device token issued");
            reply
        }
    }
}

/// Cookies that clear both login cookies (with the `Domain` they were set with).
pub fn logout_cookies(config: &Config) -> [String; 2] {
    const GONE: &str = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    let domain = domain(config);
    [
        format!("{ACCESS_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/{domain}; {GONE}"),
        format!("{CSRF_COOKIE}=; Secure; SameSite=Lax; Path=/{domain}; {GONE}"),
    ]
}
