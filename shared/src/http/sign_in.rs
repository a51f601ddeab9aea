//! The end of a successful sign-in, shared by the password step
//! (`POST /api/login`) and the second factor's (`POST /api/login/mfa`):
//! the session, the session cap, and the answer (JWT, CSRF token, device
//! token, cookies).

use serde_json::json;

use crate::domain::{DEVICE_COOKIE, DEVICE_HEADER, JwtKeys, SessionId, Username, device_summary};
use crate::error::ApiError;
use crate::http::envelope::Reply;
use crate::http::request::cookie;
use crate::http::session::{device_cookie, login_cookies};
use crate::ports::{App, SessionRecord, UserRecord};

/// The device token the client sent: the `device_token` cookie, or the
/// `X-Device-Token` header for clients without cookies.
pub fn presented_device_token(req: &lambda_http::Request) -> Option<String> {
    cookie(req, DEVICE_COOKIE).or_else(|| {
        req.headers()
            .get(DEVICE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// What signed in, summarised from the `User-Agent` for the sessions list.
pub fn device_of(req: &lambda_http::Request) -> Option<String> {
    req.headers()
        .get(lambda_http::http::header::USER_AGENT)
        .and_then(|ua| ua.to_str().ok())
        .and_then(device_summary)
}

/// The session a sign-in of `user` starts at `now`.
pub fn session_for(
    app: &App,
    user: &UserRecord,
    sid: SessionId,
    remember: bool,
    device: Option<String>,
    amr: &[&str],
    now: i64,
) -> SessionRecord {
    let ttl = if remember {
        app.config.remember_ttl_secs
    } else {
        app.config.session_ttl_secs
    };
    SessionRecord {
        username: user.username.clone(),
        account_id: user.account_id.clone(),
        sid,
        created_at: now,
        expires_at: now + ttl,
        reset_epoch: user.reset_epoch,
        remember,
        pwd_failures: 0,
        session_epoch: user.session_epoch,
        device,
        amr: amr.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// After `session` was stored: at most `SESSION_LIMIT` sessions (the
/// oldest end; a failure here leaves one too many, never a sign-in that
/// answers 5xx after its session was written), then the answer.
pub async fn signed_in(
    app: &App,
    keys: &JwtKeys,
    user: &UserRecord,
    username: &Username,
    session: &SessionRecord,
    now: i64,
) -> Result<Reply, ApiError> {
    let device_key = app.device_key()?;
    if let Err(err) = app
        .store
        .end_sessions_beyond(username, app.config.session_limit, &session.sid)
        .await
    {
        tracing::warn!(error = format!("{err:#}"), "login: session cap not applied");
    }
    let token = keys.issue(&app.config, username, &session.sid, now, session.expires_at)?;
    let csrf_token = keys.csrf_token(&session.sid);
    let max_age = session.remember.then_some(session.expires_at - now);
    let [access, csrf] = login_cookies(&app.config, &token, &csrf_token, max_age);
    // Every success names this device anew (a fresh id, a fresh year).
    let device_token = device_key.issue(&user.account_id, user.device_epoch, now)?;
    Ok(Reply::msg("success")
        // The CSRF token too, since the cookies are set: a front end on
        // another host (without COOKIE_DOMAIN) cannot read the cookie.
        .with_data(json!({
            "token": token,
            "device_token": device_token,
            "csrf_token": csrf_token,
        }))
        .with_cookie(access)
        .with_cookie(csrf)
        .with_cookie(device_cookie(&app.config, &device_token)))
}
