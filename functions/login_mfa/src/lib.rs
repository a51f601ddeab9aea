//! `POST /api/login/mfa` `{mfa_token, code}`: the second step of a sign-in
//! for an account with TOTP on. The token names the attempt the password
//! step stored (5 minutes, once, dead after 5 wrong codes); a right code
//! (TOTP, each step once; or an unused recovery code) answers as a
//! successful login does. Codes count on the failure run the password step
//! counted on, under the same lockout: a stranger with the password gets no
//! more guesses at the code than at the password.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::{MFA_MAX_FAILURES, MfaToken, SessionId};
use shared::http::factors::{WRONG_CODE, check_code, required_code};
use shared::http::limits::{IpAction, check_lockout, limit_ip, refund_ip};
use shared::http::sign_in::{presented_device_token, session_for, signed_in};
use shared::http::{JsonBody, respond};
use shared::ports::FailureRun;
use shared::{ApiError, App, Reply};

/// The 401 for a token that is unknown, expired, used or dead.
pub const SIGN_IN_AGAIN: &str = "sign in again";

/// Handles `POST /api/login/mfa`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(second_step(&app, &req).await)
}

fn busy() -> ApiError {
    ApiError::TooManyRequests {
        msg: "too many requests, try again later.",
        retry_after: 1,
    }
}

async fn second_step(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let body = JsonBody::parse(req)?;
    let raw = body.str("mfa_token")?.to_owned();
    if raw.trim().is_empty() {
        return Err(ApiError::bad_request("mfa_token is required."));
    }
    let code = required_code(&body)?;
    let now = app.clock.now();
    let keys = app.jwt()?.signing(now).await;
    let device_key = app.device_key()?;
    let factor_key = app.factor_key()?;
    let again = || ApiError::Unauthorized(SIGN_IN_AGAIN);
    let (username, hash) = MfaToken::parse(&raw).ok_or_else(again)?;
    let presented = presented_device_token(req).and_then(|t| device_key.verify(&t, now));
    let (state, challenge) = app
        .store
        .mfa_login_state(&username, &hash, presented.as_ref().map(|d| &d.id), now)
        .await?;
    let challenge = challenge.ok_or_else(again)?;
    // The attempt is void once the account moved on: a reset, "sign out
    // everywhere", a revert, TOTP turned off, or another account.
    let user = state
        .user
        .filter(|u| {
            u.account_id == challenge.account_id
                && u.reset_epoch == challenge.reset_epoch
                && u.session_epoch == challenge.session_epoch
                && u.totp_on()
        })
        .ok_or_else(again)?;
    if challenge.fails >= MFA_MAX_FAILURES {
        app.store.delete_mfa_challenge(&challenge).await?;
        return Err(again());
    }
    // The run the password step counted on counts the codes: the trusted
    // device's, when the same device is still shown; else the username's.
    let device = presented.filter(|d| {
        challenge.device_id.as_ref() == Some(&d.id)
            && d.account_id == user.account_id
            && d.epoch == user.device_epoch
    });
    let mut counted_ip = None;
    let (run, failures) = match &device {
        Some(d) => (FailureRun::Device(d.id.clone()), state.device_failures),
        None => {
            counted_ip = limit_ip(app, req, IpAction::Login).await?;
            (FailureRun::Username(username.clone()), state.failures)
        }
    };
    check_lockout(app, failures, now)?;
    let sid = SessionId::generate()?;
    // Counted before checked, on the attempt and on the run: of concurrent
    // tries one goes on, the others wait.
    if !app.store.claim_mfa_attempt(&challenge, now).await? {
        return Err(busy());
    }
    let forget_at = now + app.config.login_failure_ttl_secs;
    if !app
        .store
        .claim_login_attempt(&run, failures, now, forget_at, &sid)
        .await?
    {
        return Err(busy());
    }
    let Some(used) = check_code(factor_key, &user, &code, now)? else {
        if challenge.fails + 1 >= MFA_MAX_FAILURES {
            app.store.delete_mfa_challenge(&challenge).await?;
        }
        return Err(ApiError::Unauthorized(WRONG_CODE));
    };
    let session = session_for(
        app,
        &user,
        sid,
        challenge.remember,
        challenge.device.clone(),
        now,
    );
    if !app
        .store
        .finish_mfa_login(&challenge, &user, &used, &session, Some(&run))
        .await?
    {
        // The attempt ended meanwhile (used, expired, or the account moved
        // on: sign in again), or a request with the same code won the race.
        let (now_state, pending) = app
            .store
            .mfa_login_state(&username, &hash, None, session.created_at)
            .await?;
        let alive = pending.is_some()
            && now_state.user.is_some_and(|u| {
                u.reset_epoch == challenge.reset_epoch
                    && u.session_epoch == challenge.session_epoch
                    && u.account_id == challenge.account_id
            });
        return Err(if alive {
            ApiError::Unauthorized(WRONG_CODE)
        } else {
            again()
        });
    }
    refund_ip(app, counted_ip).await;
    signed_in(app, &keys, &user, &username, &session, now).await
}
