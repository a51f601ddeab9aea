//! `POST /api/resend_confirmation` (authenticated): a fresh confirmation
//! link to the account's address; every earlier one stops working.
//!
//! Capped like reset emails (per user and per address). An account whose
//! address another account has confirmed gets the same answer, and that
//! address the "someone tried to register" notice instead of a link.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::OneTimeToken;
use shared::domain::messages;
use shared::http::account::caller_user;
use shared::http::limits::{
    address_mail_cap, limit_client_mail, send_within_address_cap, user_mail_cap,
};
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{own_base_url, respond};
use shared::ports::{TokenPurpose, TokenRecord, WriteOutcome};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/resend_confirmation`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(resend(&app, &req).await)
}

async fn resend(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (_, user) = caller_user(app, req, now).await?;
    if user.is_email_verified {
        return Err(ApiError::bad_request("email is already confirmed."));
    }
    limit_client_mail(app, req).await?;
    let token = OneTimeToken::generate()?;
    let record = TokenRecord {
        hash: token.hash(),
        purpose: TokenPurpose::Confirm,
        username: user.username.clone(),
        account_id: user.account_id.clone(),
        email: user.email.clone(),
        expires_at: now + app.config.confirm_token_ttl_secs,
        epoch: user.confirm_epoch + 1,
    };
    // An address another account has confirmed gets the notice instead of
    // a link (as at registration); everything else is the same, caps
    // included, so the answers tell nobody whose address it is.
    let taken = app
        .store
        .address_holder_hint(&user.email)
        .await?
        .is_some_and(|holder| holder != user.username);
    let mail = if taken {
        messages::already_registered(&app.config, user.email.as_str())?
    } else {
        messages::confirmation(
            &app.config,
            user.email.as_str(),
            &app.config
                .links(own_base_url(req).as_deref())
                .confirm(token.expose())?,
        )?
    };
    let cap = user_mail_cap(app, &user.username, now);
    match app
        .store
        .resend_confirmation(&user, &record, std::slice::from_ref(&cap))
        .await?
    {
        WriteOutcome::Done => {}
        WriteOutcome::Capped => {
            return Err(ApiError::TooManyRequests {
                msg: "too many emails, try again later.",
                retry_after: cap.expires_at - now,
            });
        }
        // Confirmed or changed meanwhile: the next request says which.
        WriteOutcome::Stale => return Err(ApiError::Unauthorized(NOT_AUTHENTICATED)),
    }
    // The address's cap is silent (see reset_password_request).
    send_within_address_cap(app, &address_mail_cap(app, &user.email, now), &mail).await?;
    Ok(Reply::msg("Check your email..."))
}
