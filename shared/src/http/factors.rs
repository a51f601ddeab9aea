//! Second factors in requests: the `code` a request brings, checking it
//! (once), and the notice of a change of factors (sent before the change).

use crate::domain::messages::{self, FactorChange};
use crate::domain::{FactorCode, FactorKey, RECOVERY_CODES, RecoveryCode, TotpSecret};
use crate::error::ApiError;
use crate::http::JsonBody;
use crate::http::limits::{TOO_MANY_EMAILS, notice_cap, send_notice, take_for};
use crate::http::session::NOT_AUTHENTICATED;
use crate::ports::{App, FactorUse, UserRecord};

/// The 400 for a missing code while TOTP is on.
pub const CODE_REQUIRED: &str = "code is required.";
/// The 401 for a wrong (or already used) code.
pub const WRONG_CODE: &str = "wrong code";
/// The 400 of the routes that need TOTP on.
pub const TOTP_OFF: &str = "two-factor sign-in is off.";

/// The `code` of a request: required while `user` has TOTP on (400
/// `"code is required."`), ignored otherwise.
pub fn code_for(user: &UserRecord, body: &JsonBody) -> Result<Option<FactorCode>, ApiError> {
    if !user.totp_on() {
        return Ok(None);
    }
    required_code(body).map(Some)
}

/// The `code` of a request, required.
pub fn required_code(body: &JsonBody) -> Result<FactorCode, ApiError> {
    match body.opt_str("code")? {
        Some(code) if !code.trim().is_empty() => Ok(FactorCode::parse(code)),
        _ => Err(ApiError::bad_request(CODE_REQUIRED)),
    }
}

/// What `code` would use of `user`'s factors at `now`, or `None` when it is
/// wrong: not a code of the secret within a step either way, a step at or
/// before the last one used (a replay), or not an unused recovery code.
pub fn check_code(
    key: &FactorKey,
    user: &UserRecord,
    code: &FactorCode,
    now: i64,
) -> Result<Option<FactorUse>, ApiError> {
    let Some(sealed) = &user.totp_secret else {
        return Ok(None);
    };
    Ok(match code {
        FactorCode::Totp(digits) => {
            let secret = key
                .open(&user.account_id, sealed)
                .map_err(ApiError::internal)?;
            secret
                .step_of(digits, now)
                .filter(|step| *step > user.totp_step)
                .map(FactorUse::Step)
        }
        FactorCode::Recovery(code) => {
            let hash = key.code_hash(&user.account_id, code);
            user.recovery_codes
                .contains_key(&hash)
                .then_some(FactorUse::Recovery(hash))
        }
        FactorCode::Junk => None,
    })
}

/// Uses the code [`check_code`] (through
/// [`crate::http::account::confirm_identity`]) found right, if any: 401
/// `"wrong code"` when it was used meanwhile (a concurrent request with the
/// same code won). Called just before the request's own write.
pub async fn spend(app: &App, user: &UserRecord, used: Option<FactorUse>) -> Result<(), ApiError> {
    match used {
        Some(used) if !app.store.use_factor(user, &used).await? => {
            Err(ApiError::Unauthorized(WRONG_CODE))
        }
        _ => Ok(()),
    }
}

/// The step of a code of `secret` (a setup's first code), or `None`.
pub fn first_step(secret: &TotpSecret, code: &FactorCode, now: i64) -> Option<u64> {
    match code {
        FactorCode::Totp(digits) => secret.step_of(digits, now),
        _ => None,
    }
}

/// Mails `user` the notice of `change`, before it is written: against the
/// account's own notice budget (never the address's, which strangers can
/// fill), so it is never capped away by others; 503 when it cannot be
/// sent, 429 past the budget, nothing changed either way.
pub async fn announce(
    app: &App,
    user: &UserRecord,
    change: FactorChange,
    now: i64,
) -> Result<(), ApiError> {
    let notice = messages::factor_changed(
        &app.config,
        user.email.as_str(),
        user.username.as_str(),
        change,
    )?;
    if !take_for(
        app,
        &notice_cap(app, &user.username, now),
        user,
        TOO_MANY_EMAILS,
        now,
    )
    .await?
    {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    send_notice(app, user, &notice, now).await
}

/// A new set of recovery codes for `user`: as shown (once) and as stored.
pub fn new_recovery_codes(
    key: &FactorKey,
    user: &UserRecord,
) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut stored = Vec::with_capacity(RECOVERY_CODES);
    while shown.len() < RECOVERY_CODES {
        let code = RecoveryCode::generate()?;
        let hash = key.code_hash(&user.account_id, &code);
        if !stored.contains(&hash) {
            shown.push(code.display());
            stored.push(hash);
        }
    }
    Ok((shown, stored))
}
