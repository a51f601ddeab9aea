//! `POST /api/mfa/disable` (authenticated) `{pwd, code}`: turns two-factor
//! sign-in off (the secret, a pending setup and the recovery codes go). A
//! notice goes to the account's address first: no notice, no change.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use shared::domain::messages::FactorChange;
use shared::http::account::{caller_user_and_failures, confirm_identity};
use shared::http::factors::{TOTP_OFF, announce, required_code, spend};
use shared::http::limits::limit_client_mail;
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/mfa/disable`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(disable(&app, &req).await)
}

async fn disable(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    if !user.totp_on() {
        return Err(ApiError::bad_request(TOTP_OFF));
    }
    let code = required_code(&body)?;
    app.factor_key()?;
    limit_client_mail(app, req).await?;
    let used = confirm_identity(app, &caller, &user, failures, pwd, Some(&code), now).await?;
    announce(app, &user, FactorChange::TotpOff, now).await?;
    spend(app, &user, used).await?;
    if !app.store.disable_totp(&user).await? {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    Ok(Reply::msg("Two-factor sign-in is off."))
}
