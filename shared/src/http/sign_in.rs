//! The end of a successful sign-in, shared by the password step
//! (`POST /api/login`) and the second factor's (`POST /api/login/mfa`):
//! the session, the session cap, and the answer (JWT, CSRF token, device
//! token, cookies).

use serde_json::json;

use crate::domain::activity::ActivityKind;
use crate::domain::{DEVICE_COOKIE, DEVICE_HEADER, JwtKeys, SessionId, Username, device_summary};
use crate::domain::{fixed_window, messages};
use crate::error::ApiError;
use crate::http::account::rfc3339;
use crate::http::envelope::Reply;
use crate::http::request::cookie;
use crate::http::request::own_base_url;
use crate::http::session::{device_cookie, login_cookies};
use crate::ports::{App, SessionRecord, Trail, UserRecord, WriteOutcome};

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

/// Whether `req` came with a valid device token of `user`'s account (one
/// issued since its last revert).
pub fn known_device(app: &App, req: &lambda_http::Request, user: &UserRecord, now: i64) -> bool {
    let Ok(key) = app.device_key() else {
        return false;
    };
    presented_device_token(req)
        .and_then(|t| key.verify(&t, now))
        .is_some_and(|d| d.account_id == user.account_id && d.epoch == user.device_epoch)
}

/// Records a failed sign-in that came with `user`'s own device token in
/// its security activity. Best effort: the answer is the 401 either way.
pub async fn note_failed_sign_in(app: &App, user: &UserRecord) {
    let failed = Trail::current().activity(ActivityKind::SignInFailed);
    if let Err(err) = app.store.note_activity(user, &failed).await {
        tracing::warn!(error = format!("{err:#}"), "failed sign-in not recorded");
    }
}

/// The session a sign-in of `user` starts at `now`; `known_device`: the
/// client came with a valid device token of this account.
#[allow(clippy::too_many_arguments)]
pub fn session_for(
    app: &App,
    user: &UserRecord,
    sid: SessionId,
    remember: bool,
    device: Option<String>,
    amr: &[&str],
    known_device: bool,
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
        known_device,
    }
}

/// After `session` was stored: at most `SESSION_LIMIT` sessions (the
/// oldest end; a failure here leaves one too many, never a sign-in that
/// answers 5xx after its session was written), then the answer.
pub async fn signed_in(
    app: &App,
    req: &lambda_http::Request,
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
    announce_new_device(app, req, user, session, now).await;
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

/// Mails the owner about a sign-in from a client without a valid device
/// token of the account (`NEW_SIGNIN_MAIL`), at most
/// `NEW_SIGNIN_MAIL_CAP` a day. Best effort: the sign-in has happened, so
/// a failure here is logged and never fails it.
async fn announce_new_device(
    app: &App,
    req: &lambda_http::Request,
    user: &UserRecord,
    session: &SessionRecord,
    now: i64,
) {
    // Only to an address the account has confirmed: an unconfirmed one may
    // be a stranger's (a typo at registration), who must not learn where
    // and from what the account signs in.
    if session.known_device || !app.config.activity.new_signin_mail || !user.is_email_verified {
        return;
    }
    match mail_new_device(app, req, user, session, now).await {
        Ok(true) => tracing::info!(event = "new_signin_mail", "new sign-in mail sent"),
        Ok(false) => tracing::info!(
            event = "new_signin_mail_capped",
            "new sign-in mail not sent: cap reached"
        ),
        Err(err) => tracing::warn!(error = %err, "new sign-in mail not sent"),
    }
}

async fn mail_new_device(
    app: &App,
    req: &lambda_http::Request,
    user: &UserRecord,
    session: &SessionRecord,
    now: i64,
) -> Result<bool, ApiError> {
    let cap = fixed_window(
        format!("signin#{}", user.username.key()),
        app.config.activity.new_signin_mail_cap,
        24 * 3600,
        now,
    );
    if app.store.hit_for_account(&cap, user).await? != WriteOutcome::Done {
        return Ok(false);
    }
    let page = app
        .config
        .public_base_url
        .clone()
        .or_else(|| own_base_url(req))
        .map_or_else(
            || "on the account page".to_owned(),
            |b| format!("{b}/account"),
        );
    let mail = messages::new_sign_in(
        &app.config,
        user.email.as_str(),
        Some(user.username.as_str()),
        &format!("{} (UTC)", rfc3339(now)),
        Trail::current().ip.as_deref(),
        session.device.as_deref(),
        &page,
    )?;
    app.mailer.send(&mail).await?;
    Ok(true)
}
