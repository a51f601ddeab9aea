//! `POST /api/change_email` (authenticated) `{pwd, new_email}`.
//!
//! Nothing changes until the link mailed to the NEW address is opened
//! (`GET /api/confirm_email/{token}`); until then login, reset and the
//! profile keep the old address. The OLD address gets a notice with a link
//! (`GET /api/revert_email/{token}`, 7 days) that keeps or restores it and
//! ends every session. A new address that another account has confirmed
//! gets the same answer; its owner gets a notice instead of a link.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use shared::domain::messages;
use shared::domain::{EmailAddress, OneTimeToken};
use shared::http::account::{caller_user_and_failures, confirm_password};
use shared::http::limits::{address_mail_cap, user_mail_cap};
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::ports::{PendingEmail, TokenPurpose, TokenRecord, WriteOutcome};
use shared::{ApiError, App, Reply};

/// How long the old address can undo the change (7 days).
pub const REVERT_TTL_SECS: i64 = 7 * 24 * 3600;

/// Handles `POST /api/change_email`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(change(&app, &req).await)
}

async fn change(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    let new_email = EmailAddress::parse(body.str("new_email")?)
        .map_err(|e| ApiError::bad_request(format!("new_email {e}")))?;
    if new_email == user.email {
        return Err(ApiError::bad_request(
            "new_email is already the account's address.",
        ));
    }
    confirm_password(app, &caller, &user, Some(failures), pwd, now, false).await?;

    let change = OneTimeToken::generate()?;
    let revert = OneTimeToken::generate()?;
    let change_record = TokenRecord {
        hash: change.hash(),
        purpose: TokenPurpose::ChangeEmail,
        username: user.username.clone(),
        account_id: user.account_id.clone(),
        email: new_email.clone(),
        expires_at: now + app.config.confirm_token_ttl_secs,
        epoch: 0,
    };
    // A revert link proves nothing about an address the account never
    // verified: such an address is told, without a link.
    let revert_record = user.is_email_verified.then(|| TokenRecord {
        hash: revert.hash(),
        purpose: TokenPurpose::RevertEmail,
        email: user.email.clone(),
        expires_at: now + REVERT_TTL_SECS,
        epoch: user.email_changes + 1,
        ..change_record.clone()
    });
    let pending = PendingEmail {
        email: new_email.clone(),
        expires_at: change_record.expires_at,
    };

    // Every message is built before anything is written.
    let taken = app
        .store
        .address_holder(&new_email)
        .await?
        .is_some_and(|holder| holder != user.username);
    let to_new = if taken {
        messages::address_in_use(&app.config, new_email.as_str())?
    } else {
        messages::confirm_new_address(
            &app.config,
            new_email.as_str(),
            user.username.as_str(),
            &app.config.confirm_link(change.expose()),
        )?
    };
    let revert_link = app.config.revert_link(revert.expose());
    let to_old = messages::address_change_requested(
        &app.config,
        user.email.as_str(),
        user.username.as_str(),
        revert_record.as_ref().map(|_| revert_link.as_str()),
    )?;
    let cap = user_mail_cap(app, &user.username, now);
    match app
        .store
        .request_email_change(
            &user,
            &pending,
            &change_record,
            revert_record.as_ref(),
            std::slice::from_ref(&cap),
        )
        .await?
    {
        WriteOutcome::Done => {}
        WriteOutcome::Capped => {
            return Err(ApiError::TooManyRequests {
                msg: "too many emails, try again later.",
                retry_after: cap.expires_at - now,
            });
        }
        WriteOutcome::Stale => return Err(ApiError::Unauthorized(NOT_AUTHENTICATED)),
    }
    // Each address's cap is silent (see reset_password_request). A retry
    // after a failed send simply replaces this pending change.
    for (address, mail) in [(&user.email, &to_old), (&new_email, &to_new)] {
        if app.store.hit(&address_mail_cap(app, address, now)).await? {
            app.mailer.send(mail).await?;
        }
    }
    Ok(Reply::msg("Check your email..."))
}
