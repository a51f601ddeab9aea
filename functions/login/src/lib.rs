//! `POST /api/login` `{username, pwd, remember}`: a JWT and session cookies.
//!
//! Unknown users cost the same as known ones (a dummy argon2 verification and
//! the same store calls), and every username, existing or not, has a lockout
//! for clients without a device token. A successful login also answers a
//! device token (OWASP's device cookies): a client that shows it later is
//! judged by its own failures only, so nobody can lock the owner out.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde_json::json;
use shared::domain::hashing::verify_password;
use shared::domain::{DEVICE_COOKIE, DEVICE_HEADER, SessionId, Username, device_summary};
use shared::http::limits::{IpAction, check_lockout, limit_ip, refund_ip};
use shared::http::request::cookie;
use shared::http::session::{device_cookie, login_cookies};
use shared::http::{JsonBody, respond};
use shared::ports::{FailureRun, LoginState, SessionRecord, UserRecord};
use shared::{ApiError, App, Reply};

const WRONG_CREDENTIALS: &str = "wrong username or password";

/// Handles `POST /api/login`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(login(&app, &req).await)
}

/// A login attempt as typed.
struct Credentials {
    /// `None` for a name that cannot be registered, so cannot exist: it gets
    /// the dummy check and no counter.
    username: Option<Username>,
    pwd: SecretString,
    remember: bool,
}

impl TryFrom<JsonBody> for Credentials {
    type Error = ApiError;

    fn try_from(body: JsonBody) -> Result<Self, ApiError> {
        Ok(Self {
            username: Username::parse(body.str("username")?).ok(),
            pwd: SecretString::from(body.str("pwd")?),
            remember: body.opt_bool("remember")?,
        })
    }
}

/// The device token the client sent: the `device_token` cookie, or the
/// `X-Device-Token` header for clients without cookies.
fn presented_device_token(req: &Request) -> Option<String> {
    cookie(req, DEVICE_COOKIE).or_else(|| {
        req.headers()
            .get(DEVICE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

async fn login(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let Credentials {
        username,
        pwd,
        remember,
    } = Credentials::try_from(JsonBody::parse(req)?)?;
    let now = app.clock.now();
    let keys = app.jwt()?.signing(now).await;
    let device_key = app.device_key()?;
    let presented = presented_device_token(req).and_then(|t| device_key.verify(&t, now));
    let state = match &username {
        Some(u) => {
            app.store
                .login_state(u, presented.as_ref().map(|d| &d.id), now)
                .await?
        }
        None => LoginState::default(),
    };
    // A device that signed in to this very account before (and since its
    // last revert) is trusted: its failures are its own, and nobody else's
    // failures (the username's lockout, the per-IP window) can refuse it.
    let device = presented.filter(|d| {
        state
            .user
            .as_ref()
            .is_some_and(|u| u.account_id == d.account_id && u.device_epoch == d.epoch)
    });
    // The per-IP window counts every attempt without a valid device token
    // while it runs; a success gives its count back below, so the window
    // holds failures only and many people behind one address can sign in.
    let mut counted_ip = None;
    let (run, failures) = match (&device, &username) {
        (Some(d), _) => (
            Some(FailureRun::Device(d.id.clone())),
            state.device_failures,
        ),
        (None, u) => {
            counted_ip = limit_ip(app, req, IpAction::Login).await?;
            (u.clone().map(FailureRun::Username), state.failures)
        }
    };
    check_lockout(app, failures, now)?;
    // Names this attempt (its claim on the failure run) and, if it succeeds, its session.
    let sid = SessionId::generate()?;
    if let Some(run) = &run {
        // Count the attempt before checking the password; a concurrent
        // attempt that got there first makes this one wait.
        let forget_at = now + app.config.login_failure_ttl_secs;
        if !app
            .store
            .claim_login_attempt(run, failures, now, forget_at, &sid)
            .await?
        {
            return Err(ApiError::TooManyRequests {
                msg: "too many requests, try again later.",
                retry_after: 1,
            });
        }
    }

    // A disabled password (after a revert) is checked like an unknown
    // user's: the same dummy verification, the same answer.
    let user = state.user;
    let valid = verify_password(pwd, user.as_ref().and_then(UserRecord::password_phc)).await?;
    let (Some(user), Some(username), true) = (user, username.as_ref(), valid) else {
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
    };

    let ttl = if remember {
        app.config.remember_ttl_secs
    } else {
        app.config.session_ttl_secs
    };
    let session = SessionRecord {
        username: username.clone(),
        account_id: user.account_id.clone(),
        sid: sid.clone(),
        created_at: now,
        expires_at: now + ttl,
        reset_epoch: user.reset_epoch,
        remember,
        pwd_failures: 0,
        session_epoch: user.session_epoch,
        device: req
            .headers()
            .get(lambda_http::http::header::USER_AGENT)
            .and_then(|ua| ua.to_str().ok())
            .and_then(device_summary),
    };
    // The attempt was counted: a success ends its run (the device's, or
    // the username's for a client without a device token).
    if !app.store.create_session(&session, run.as_ref()).await? {
        // The account went away between the password check and now.
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
    }
    refund_ip(app, counted_ip).await;
    // At most SESSION_LIMIT sessions a user: the oldest end. A failure here
    // leaves one session too many, never a login that answers 5xx after its
    // session was written.
    if let Err(err) = app
        .store
        .end_sessions_beyond(username, app.config.session_limit, &sid)
        .await
    {
        tracing::warn!(error = format!("{err:#}"), "login: session cap not applied");
    }
    let token = keys.issue(&app.config, username, &sid, now, session.expires_at)?;
    let csrf_token = keys.csrf_token(&sid);
    let [access, csrf] = login_cookies(&app.config, &token, &csrf_token, remember.then_some(ttl));
    // Every success names this device anew (a fresh id, a fresh year).
    let device_token = device_key.issue(&user.account_id, user.device_epoch, now)?;
    tracing::debug!(
        is_email_verified = user.is_email_verified,
        remember,
        trusted_device = device.is_some(),
        "login succeeded"
    );
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
