//! `POST /api/mfa/totp/confirm` (authenticated) `{code}`: a code of the
//! pending secret turns TOTP on (in place of an earlier authenticator) and
//! answers a new set of recovery codes, once. A wrong code counts against
//! the session like a wrong password. A notice goes to the account's
//! address first: no notice, no change.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::messages::FactorChange;
use shared::http::account::{SessionAttempt, caller_user_and_failures};
use shared::http::factors::{WRONG_CODE, announce, first_step, new_recovery_codes, required_code};
use shared::http::limits::limit_client_mail;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

const NOTHING_PENDING: &str = "no two-factor setup to confirm.";

/// Handles `POST /api/mfa/totp/confirm`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(confirm(&app, &req).await)
}

async fn confirm(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let code = required_code(&JsonBody::parse(req)?)?;
    let key = app.factor_key()?;
    let pending = user
        .totp_pending
        .as_deref()
        .ok_or_else(|| ApiError::bad_request(NOTHING_PENDING))?;
    let secret = key
        .open(&user.account_id, pending)
        .map_err(ApiError::internal)?;
    limit_client_mail(app, req).await?;
    let attempt = SessionAttempt::claim(app, &caller, failures, now).await?;
    let Some(step) = first_step(&secret, &code, now) else {
        return Err(attempt.failed(app, WRONG_CODE).await);
    };
    attempt.succeeded(app).await?;
    let (shown, stored) = new_recovery_codes(key, &user)?;
    announce(app, &user, FactorChange::TotpOn, now).await?;
    if !app.store.enable_totp(&user, pending, step, &stored).await? {
        // A newer setup replaced this one, or the account changed.
        return Err(ApiError::bad_request(NOTHING_PENDING));
    }
    Ok(Reply::msg("Two-factor sign-in is on.").with_data(json!({ "recovery_codes": shown })))
}
