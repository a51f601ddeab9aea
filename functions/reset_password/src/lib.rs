//! `POST /api/reset_password/{token}` `{new_pwd}`: sets a new password.
//!
//! The password is validated before the token is consumed, so a rejected
//! password does not burn the link. Success ends every session, untrusts
//! every device but this one (it gets a new device token: after a recovery
//! the owner's own browser is not held to a lockout strangers keep up),
//! verifies the email and sends a "your password was changed" notice.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::hashing::hash_password;
use shared::domain::messages;
use shared::domain::{Password, TokenHash};
use shared::http::session::with_device_token;
use shared::http::{JsonBody, path_param, respond};
use shared::ports::TokenPurpose;
use shared::{ApiError, App, Reply};

/// Handles `POST /api/reset_password/{token}`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(reset(&app, &req).await)
}

/// `{new_pwd}`, checked against the rules once its account is known.
struct NewPassword(String);

impl TryFrom<JsonBody> for NewPassword {
    type Error = ApiError;

    fn try_from(body: JsonBody) -> Result<Self, ApiError> {
        Ok(Self(body.str("new_pwd")?.to_owned()))
    }
}

async fn reset(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let not_found = || ApiError::bad_request("user not found");
    let hash = path_param(req, "token")
        .as_deref()
        .and_then(TokenHash::from_link)
        .ok_or_else(not_found)?;
    let NewPassword(new_pwd) = NewPassword::try_from(JsonBody::parse(req)?)?;
    let device_key = app.device_key()?;

    let token = app
        .store
        .get_token(&hash, TokenPurpose::Reset, app.clock.now())
        .await?
        .ok_or_else(not_found)?;
    let pwd = Password::parse(&new_pwd, &token.username)
        .map_err(|e| ApiError::bad_request(format!("new_pwd {e}")))?;
    let password_hash = hash_password(pwd.secret().clone()).await?;
    let user = app
        .store
        .reset_password(&token, &password_hash, app.clock.now())
        .await?
        .ok_or_else(not_found)?;

    // The password is changed either way; a lost notice is logged, not an error.
    let notice =
        messages::password_changed(&app.config, user.email.as_str(), user.username.as_str());
    match notice {
        Ok(mail) => {
            if let Err(err) = app.mailer.send(&mail).await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "password-changed notice not sent"
                );
            }
        }
        Err(err) => tracing::warn!(
            error = format!("{err:#}"),
            "password-changed notice not built"
        ),
    }
    Ok(with_device_token(
        Reply::msg("Your password has been reset."),
        &app.config,
        device_key,
        &user.account_id,
        user.device_epoch,
        app.clock.now(),
    ))
}
