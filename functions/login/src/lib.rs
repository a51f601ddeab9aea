//! `POST /api/login` `{username, pwd, remember}`: a JWT and session cookies.
//!
//! Unknown users cost the same as known ones (a dummy argon2 verification and
//! the same store calls), and every username, existing or not, has a lockout.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde_json::json;
use shared::domain::hashing::verify_password;
use shared::domain::{SessionId, Username};
use shared::http::limits::{IpAction, check_lockout, limit_ip};
use shared::http::session::login_cookies;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};
use shared::{domain::LoginFailures, ports::SessionRecord};

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

async fn login(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let Credentials {
        username,
        pwd,
        remember,
    } = Credentials::try_from(JsonBody::parse(req)?)?;
    limit_ip(app, req, IpAction::Login).await?;
    let now = app.clock.now();
    let keys = app.jwt()?.signing(now).await;
    let (user, failures) = match &username {
        Some(u) => app.store.login_state(u, now).await?,
        None => (None, LoginFailures::default()),
    };
    check_lockout(app, failures, now)?;
    // Names this attempt (its claim on the failure run) and, if it succeeds, its session.
    let sid = SessionId::generate()?;
    if let Some(u) = &username {
        // Count the attempt before checking the password; a concurrent
        // attempt that got there first makes this one wait.
        let forget_at = now + app.config.login_failure_ttl_secs;
        if !app
            .store
            .claim_login_attempt(u, failures, now, forget_at, &sid)
            .await?
        {
            return Err(ApiError::TooManyRequests {
                msg: "too many requests, try again later.",
                retry_after: 1,
            });
        }
    }

    let valid = verify_password(pwd, user.as_ref().map(|u| u.password_hash.clone())).await?;
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
    };
    // The attempt was counted: a success ends the run.
    if !app.store.create_session(&session, true).await? {
        // The account went away between the password check and now.
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
    }
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
    let csrf = keys.csrf_token(&sid);
    let [access, csrf] = login_cookies(&token, &csrf, remember.then_some(ttl));
    tracing::debug!(
        is_email_verified = user.is_email_verified,
        remember,
        "login succeeded"
    );
    Ok(Reply::msg("success")
        .with_data(json!({ "token": token }))
        .with_cookie(access)
        .with_cookie(csrf))
}
