//! `POST /api/mfa/recovery_codes` (authenticated) `{pwd, code}`: a new set
//! of recovery codes, answered once; the old set is void. A notice goes to
//! the account's address first: no notice, no change.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde_json::json;
use shared::domain::messages::FactorChange;
use shared::http::account::{caller_user_and_failures, confirm_identity};
use shared::http::factors::{TOTP_OFF, announce, new_recovery_codes, required_code, spend};
use shared::http::limits::limit_client_mail;
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/mfa/recovery_codes`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(renew(&app, &req).await)
}

async fn renew(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    if !user.totp_on() {
        return Err(ApiError::bad_request(TOTP_OFF));
    }
    let code = required_code(&body)?;
    let key = app.factor_key()?;
    limit_client_mail(app, req).await?;
    let used = confirm_identity(app, &caller, &user, failures, pwd, Some(&code), now).await?;
    let (shown, stored) = new_recovery_codes(key, &user)?;
    announce(app, &user, FactorChange::NewRecoveryCodes, now).await?;
    spend(app, &user, used).await?;
    if !app.store.replace_recovery_codes(&user, &stored).await? {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    Ok(
        Reply::msg("New recovery codes made; the old ones no longer work.")
            .with_data(json!({ "recovery_codes": shown })),
    )
}
