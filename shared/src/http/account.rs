//! The signed-in account: reading it whole with the caller's session
//! checked, re-checking the password for sensitive changes (counted per
//! session), and how a profile and sessions are shown.

use crate::domain::activity::ActivityKind;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::domain::hashing::verify_password;
use crate::domain::{FactorCode, mask_email};
use crate::error::ApiError;
use crate::http::factors::{WRONG_CODE, check_code};
use crate::http::session::{Caller, NOT_AUTHENTICATED, authenticate};
use crate::ports::{AccountData, App, FactorUse, SessionRecord, UserRecord};

/// The 401 for a wrong current password.
pub const WRONG_PASSWORD: &str = "wrong password";

/// The caller and their whole account (one read), or 401 unless the
/// caller's session is live in it.
pub async fn caller_account(
    app: &App,
    req: &lambda_http::Request,
    now: i64,
) -> Result<(Caller, AccountData), ApiError> {
    let caller = authenticate(app.jwt()?, &app.config, req, now).await?;
    let data = app
        .store
        .account_data(&caller.username)
        .await?
        .filter(|d| d.live_session(&caller.sid, now).is_some())
        .ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    Ok((caller, data))
}

/// The caller and their user, or 401 (one read: session and profile).
pub async fn caller_user(
    app: &App,
    req: &lambda_http::Request,
    now: i64,
) -> Result<(Caller, UserRecord), ApiError> {
    let caller = authenticate(app.jwt()?, &app.config, req, now).await?;
    let user = app
        .store
        .session_user(&caller.username, &caller.sid, now)
        .await?
        .ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    Ok((caller, user))
}

/// The caller, their user and their session's run of wrong passwords, or
/// 401 (one read: session and profile), for a request that re-checks the
/// password.
pub async fn caller_user_and_failures(
    app: &App,
    req: &lambda_http::Request,
    now: i64,
) -> Result<(Caller, UserRecord, u32), ApiError> {
    let caller = authenticate(app.jwt()?, &app.config, req, now).await?;
    let (user, failures) = app
        .store
        .session_user_and_failures(&caller.username, &caller.sid, now)
        .await?;
    let user = user.ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    Ok((caller, user, failures))
}

/// The run of wrong passwords of the caller's session in `data`.
pub fn session_failures(data: &AccountData, caller: &Caller, now: i64) -> u32 {
    data.live_session(&caller.sid, now)
        .map_or(0, |s| s.pwd_failures)
}

/// Checks the signed-in user's current password and, when `code` is
/// given (TOTP is on: see [`crate::http::factors::code_for`]), the code:
/// one attempt for both, counted as [`confirm_password`] says; a wrong code
/// answers 401 `"wrong code"` and counts like a wrong password. The code is
/// not used yet: the caller spends what this returns
/// ([`crate::http::factors::spend`]) just before its own write, after its
/// notice went out, so that a 503 or a 429 does not burn it.
pub async fn confirm_identity(
    app: &App,
    caller: &Caller,
    user: &UserRecord,
    failures: u32,
    pwd: SecretString,
    code: Option<&FactorCode>,
    now: i64,
) -> Result<Option<FactorUse>, ApiError> {
    let attempt = SessionAttempt::claim(app, caller, failures, now).await?;
    if !verify_password(pwd, user.password_phc()).await? {
        return Err(attempt.failed(app, WRONG_PASSWORD).await);
    }
    let used = match code {
        Some(code) => match check_code(app.factor_key()?, user, code, now)? {
            Some(used) => Some(used),
            None => return Err(attempt.failed(app, WRONG_CODE).await),
        },
        None => None,
    };
    attempt.succeeded(app).await?;
    Ok(used)
}

/// Checks the signed-in user's current password, counted against the
/// caller's session (`failures`: its run as read): each attempt is claimed
/// before it is checked, a wrong one answers 401 `"wrong password"`, and
/// the `LOGIN_MAX_FAILURES`-th wrong one in a row also ends the session. A
/// right one ends the run at once (whatever then becomes of the request:
/// retries with the right password never add up). Neither feeds nor obeys
/// the username's login lockout: strangers' failed logins cannot stop the
/// owner here.
pub async fn confirm_password(
    app: &App,
    caller: &Caller,
    user: &UserRecord,
    failures: u32,
    pwd: SecretString,
    now: i64,
) -> Result<(), ApiError> {
    confirm_identity(app, caller, user, failures, pwd, None, now)
        .await
        .map(|_| ())
}

/// One secret re-entered inside a session (a password, a code), claimed on
/// the session's run before it is checked.
pub struct SessionAttempt<'a> {
    caller: &'a Caller,
    failures: u32,
    now: i64,
}

impl<'a> SessionAttempt<'a> {
    /// Claims the attempt: 401 (and the session ended) when the run is at
    /// `LOGIN_MAX_FAILURES` already; 429 when a concurrent attempt of this
    /// session got there first (one at a time, so that a burst cannot try
    /// more than the limit allows).
    pub async fn claim(
        app: &App,
        caller: &'a Caller,
        failures: u32,
        now: i64,
    ) -> Result<Self, ApiError> {
        if failures >= app.config.login_max_failures {
            app.store
                .delete_session(
                    &caller.username,
                    &caller.sid,
                    now,
                    ActivityKind::SessionEnded,
                )
                .await?;
            return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
        }
        if !app
            .store
            .claim_password_attempt(&caller.username, &caller.sid, failures, now)
            .await?
        {
            return Err(ApiError::TooManyRequests {
                msg: "too many requests, try again later.",
                retry_after: 1,
            });
        }
        Ok(Self {
            caller,
            failures,
            now,
        })
    }

    /// The 401 `msg` of a wrong secret; the last one allowed in a row also
    /// ends the session.
    pub async fn failed(self, app: &App, msg: &'static str) -> ApiError {
        if self.failures + 1 >= app.config.login_max_failures {
            if let Err(err) = app
                .store
                .delete_session(
                    &self.caller.username,
                    &self.caller.sid,
                    self.now,
                    ActivityKind::SessionEnded,
                )
                .await
            {
                return err.into();
            }
        }
        ApiError::Unauthorized(msg)
    }

    /// A right one ends the run.
    pub async fn succeeded(self, app: &App) -> Result<(), ApiError> {
        app.store
            .clear_password_failures(&self.caller.username, &self.caller.sid)
            .await?;
        Ok(())
    }
}

/// The profile as `GET /api/profile_settings` shows it.
pub fn profile_view(user: &UserRecord) -> Value {
    json!({
        "username": user.username.as_str(),
        "full_name": user.full_name,
        "email": mask_email(user.email.as_str()),
        "phone": user.phone,
        "contacts": user.contacts,
        "is_email_verified": user.is_email_verified,
        "pwd": "********",
    })
}

/// Epoch seconds as RFC 3339 (UTC).
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// One session as `GET /api/sessions` lists it.
pub fn session_view(session: &SessionRecord, current: &Caller) -> Value {
    json!({
        "id": session.sid.handle(),
        "created_at": rfc3339(session.created_at),
        "expires_at": rfc3339(session.expires_at),
        "remember": session.remember,
        "current": session.sid == current.sid,
        "device": session.device,
    })
}

/// The account's live sessions, newest first.
pub fn live_sessions(data: &AccountData, now: i64) -> Vec<&SessionRecord> {
    let mut live: Vec<&SessionRecord> = data
        .sessions
        .iter()
        .filter(|s| s.is_live_for(&data.user, now))
        .collect();
    live.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    live
}
