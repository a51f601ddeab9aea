//! `POST /api/login/mfa` `{mfa_token, code}`: the second step of a sign-in
//! for an account with TOTP on. The token names the attempt the password
//! step stored (5 minutes, once, dead after 5 wrong codes); a right code
//! (TOTP, each step once; or an unused recovery code) answers as a
//! successful login does. Codes count on the failure run the password step
//! counted on, under the same lockout: a stranger with the password gets no
//! more guesses at the code than at the password.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::domain::passkey::assertion_ids;
use shared::domain::{FactorCode, MFA_MAX_FAILURES, MfaToken, SessionId, amr};
use shared::http::factors::{WRONG_CODE, check_code, required_code};
use shared::http::limits::{IpAction, check_lockout, limit_ip, refund_ip};
use shared::http::passkeys::{SIGN_IN_REFUSED, refused, relying_party, take_ceremony};
use shared::http::sign_in::{note_failed_sign_in, presented_device_token, session_for, signed_in};
use shared::http::{JsonBody, respond};
use shared::ports::{CeremonyKind, FactorUse, FailureRun, UserRecord};
use shared::{ApiError, App, Reply};

/// What the second step brings.
enum Proof {
    /// A TOTP or recovery code.
    Code(FactorCode),
    /// A passkey's assertion: the ceremony and `credential.toJSON()`.
    Passkey(String, Value),
}

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
    // A code, or a passkey's answer to the ceremony the first step gave.
    let proof = if body.has("ceremony") {
        Proof::Passkey(
            body.str("ceremony")?.to_owned(),
            body.object("credential")?.clone(),
        )
    } else {
        Proof::Code(required_code(&body)?)
    };
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
    let checked = match &proof {
        Proof::Code(code) => check_code(factor_key, &user, code, now)?.ok_or(WRONG_CODE),
        Proof::Passkey(ceremony, credential) => {
            passkey_factor(app, req, &user, ceremony, credential, now).await?
        }
    };
    let used = match checked {
        Ok(used) => used,
        Err(msg) => {
            if challenge.fails + 1 >= MFA_MAX_FAILURES {
                app.store.delete_mfa_challenge(&challenge).await?;
            }
            if challenge.device_id.is_some() {
                note_failed_sign_in(app, &user).await;
            }
            return Err(ApiError::Unauthorized(msg));
        }
    };
    let session = session_for(
        app,
        &user,
        sid,
        challenge.remember,
        challenge.device.clone(),
        match &used {
            FactorUse::Step(_) => amr::PASSWORD_TOTP,
            FactorUse::Recovery(_) => amr::PASSWORD_RECOVERY_CODE,
            FactorUse::Passkey { .. } => amr::PASSWORD_PASSKEY,
        },
        challenge.device_id.is_some(),
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
    signed_in(app, req, &keys, &user, &username, &session, now).await
}

/// Checks a passkey's answer to the second-factor ceremony of `user`: the
/// ceremony (this account's, once), one of the account's passkeys, then the
/// assertion. `Err` carries the 401's message (counted as a wrong code).
async fn passkey_factor(
    app: &App,
    req: &Request,
    user: &UserRecord,
    ceremony: &str,
    credential: &Value,
    now: i64,
) -> Result<Result<FactorUse, &'static str>, ApiError> {
    let rp = relying_party(app, req)?;
    let account = (&user.username, &user.account_id);
    let Some(ceremony) = take_ceremony(
        app,
        ceremony,
        CeremonyKind::SecondFactor,
        Some(account),
        now,
    )
    .await?
    else {
        return Ok(Err(SIGN_IN_AGAIN));
    };
    let Some((id, _)) = assertion_ids(credential, false) else {
        return Ok(Err(SIGN_IN_REFUSED));
    };
    let Some(passkey) = app
        .store
        .passkeys_of(&user.username)
        .await?
        .into_iter()
        .find(|p| p.credential.id == id && p.account_id == user.account_id)
    else {
        return Ok(Err(SIGN_IN_REFUSED));
    };
    let handle = app
        .factor_key()?
        .user_handle(&user.account_id, &user.username);
    Ok(
        match rp.verify_assertion(
            &ceremony.state,
            credential,
            &passkey.credential,
            handle,
            false,
        ) {
            Ok(verified) => Ok(FactorUse::Passkey {
                credential_id: id,
                old: passkey.credential.dynamic_state,
                new: verified.dynamic_state,
            }),
            Err(why) => {
                let _ = refused(&why, &id);
                Err(SIGN_IN_REFUSED)
            }
        },
    )
}
