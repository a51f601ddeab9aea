//! `POST /api/mfa/totp/setup` (authenticated) `{pwd, code?}`: a new TOTP
//! secret, pending until `POST /api/mfa/totp/confirm` proves an
//! authenticator has it. Sign-in does not change until then; a newer setup
//! replaces an unconfirmed one. While TOTP is on, the current factor is
//! asked for too (`code`), and the new secret replaces the old one only
//! when confirmed.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use serde_json::json;
use shared::domain::{TotpSecret, qr_svg};
use shared::http::account::{caller_user_and_failures, confirm_identity};
use shared::http::factors::{code_for, spend};
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/mfa/totp/setup`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(setup(&app, &req).await)
}

async fn setup(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    let code = code_for(&user, &body)?;
    let key = app.factor_key()?;
    let used = confirm_identity(app, &caller, &user, failures, pwd, code.as_ref(), now).await?;

    let secret = TotpSecret::generate()?;
    let sealed = key
        .seal(&user.account_id, &secret)
        .map_err(ApiError::internal)?;
    let uri = secret
        .otpauth_uri(&app.config.mfa_issuer, &user.username)
        .ok_or_else(|| ApiError::internal(anyhow_free("otpauth URI")))?;
    let svg = qr_svg(&uri).ok_or_else(|| ApiError::internal(anyhow_free("QR code")))?;
    spend(app, &user, used).await?;
    if !app.store.set_pending_totp(&user, &sealed).await? {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    Ok(
        Reply::msg("Add the key to your authenticator app, then confirm with a code.").with_data(
            json!({
                "secret": secret.base32(),
                "otpauth_uri": uri,
                "qr_svg": svg,
            }),
        ),
    )
}

/// A 500's cause that is only a name.
fn anyhow_free(what: &'static str) -> std::io::Error {
    std::io::Error::other(format!("{what} could not be built"))
}
