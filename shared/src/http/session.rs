//! Sessions at the HTTP edge: the JWT from `Authorization: Bearer` or the
//! access cookie, the CSRF rule for cookie-authenticated writes, and the
//! login and logout cookies.

use lambda_http::Request;
use lambda_http::http::Method;
use lambda_http::http::header::AUTHORIZATION;

use crate::config::Config;
use crate::domain::{JwtKeys, SessionId, Username};
use crate::error::ApiError;
use crate::http::request::cookie;

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
    let (username, sid) = keys.verify(config, &token, now).ok_or_else(unauthorized)?;
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
    Ok(Caller { username, sid })
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
