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
use shared::domain::hashing::verify_password;
use shared::domain::{DeviceClaims, MFA_TOKEN_TTL_SECS, MfaToken, SessionId, Username, amr};
use shared::http::limits::{IpAction, check_lockout, limit_ip, refund_ip};
use shared::http::passkeys::{relying_party, start_ceremony};
use shared::http::sign_in::{
    device_of, note_failed_sign_in, presented_device_token, session_for, signed_in,
};
use shared::http::{JsonBody, respond};
use shared::ports::{CeremonyKind, FailureRun, LoginState, MfaChallenge, UserRecord};
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
    let (user, username) = match (user, username.as_ref(), valid) {
        (Some(user), Some(username), true) => (user, username),
        (user, ..) => {
            // The owner's own device (its token is this account's): the
            // owner sees it in the account's activity. Without one, anyone
            // can name any username, and the owner's list would fill with
            // strangers.
            if let (Some(user), Some(_)) = (&user, &device) {
                note_failed_sign_in(app, user).await;
            }
            return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
        }
    };

    let device_summary = device_of(req);
    if user.totp_on() {
        // The password was right; the attempt stays counted (only the right
        // code ends the run), so the codes tried next cannot outnumber the
        // lockout's budget however many times the password is given.
        let answer = second_factor(app, req, &user, remember, device_summary, device, now).await?;
        // The password was right: the IP window gives its count back (it
        // keeps failures only); each code then counts on its own.
        refund_ip(app, counted_ip).await;
        return Err(answer);
    }

    let session = session_for(
        app,
        &user,
        sid,
        remember,
        device_summary,
        amr::PASSWORD,
        device.is_some(),
        now,
    );
    // The attempt was counted: a success ends its run (the device's, or
    // the username's for a client without a device token).
    if !app.store.create_session(&session, run.as_ref()).await? {
        // The account went away between the password check and now.
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
    }
    refund_ip(app, counted_ip).await;
    tracing::debug!(
        is_email_verified = user.is_email_verified,
        remember,
        trusted_device = device.is_some(),
        "login succeeded"
    );
    signed_in(app, req, &keys, &user, username, &session, now).await
}

/// Stores the sign-in waiting for its second factor, bound to this
/// attempt (account, epochs, `remember`, device), and the 401 that names it.
async fn second_factor(
    app: &App,
    req: &Request,
    user: &UserRecord,
    remember: bool,
    device: Option<String>,
    trusted: Option<DeviceClaims>,
    now: i64,
) -> Result<ApiError, ApiError> {
    let token = MfaToken::generate(&user.username)?;
    let challenge = MfaChallenge {
        username: user.username.clone(),
        account_id: user.account_id.clone(),
        hash: token.hash(),
        expires_at: now + MFA_TOKEN_TTL_SECS,
        remember,
        device,
        device_id: trusted.map(|d| d.id),
        reset_epoch: user.reset_epoch,
        session_epoch: user.session_epoch,
        fails: 0,
    };
    if !app.store.create_mfa_challenge(&challenge).await? {
        // The account went away meanwhile.
        return Ok(ApiError::Unauthorized(WRONG_CREDENTIALS));
    }
    // With passkeys, one of them answers too: a ceremony for this account.
    let passkeys: Vec<_> = app
        .store
        .passkeys_of(&user.username)
        .await?
        .into_iter()
        .map(|p| p.credential)
        .collect();
    let passkey = match relying_party(app, req) {
        Ok(rp) if !passkeys.is_empty() => {
            let options = rp.account_options(&passkeys).map_err(ApiError::internal)?;
            let account = Some((user.username.clone(), user.account_id.clone()));
            Some(start_ceremony(app, CeremonyKind::SecondFactor, account, options, now).await?)
        }
        _ => None,
    };
    Ok(ApiError::SecondFactorRequired {
        mfa_token: SecretString::from(token.expose().to_owned()),
        passkey,
    })
}
