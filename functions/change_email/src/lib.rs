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
use shared::http::account::{caller_user, confirm_password};
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
    let (caller, user) = caller_user(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    let new_email = EmailAddress::parse(body.str("new_email")?)
        .map_err(|e| ApiError::bad_request(format!("new_email {e}")))?;
    if new_email == user.email {
        return Err(ApiError::bad_request(
            "new_email is already the account's address.",
        ));
    }
    confirm_password(app, &caller, &user, pwd, now, false).await?;

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
    let revert_record = TokenRecord {
        hash: revert.hash(),
        purpose: TokenPurpose::RevertEmail,
        email: user.email.clone(),
        expires_at: now + REVERT_TTL_SECS,
        ..change_record.clone()
    };
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
    let to_old = messages::address_change_requested(
        &app.config,
        user.email.as_str(),
        user.username.as_str(),
        &app.config.revert_link(revert.expose()),
    )?;
    let caps = [
        user_mail_cap(app, &user.username, now),
        address_mail_cap(app, &new_email, now),
    ];
    match app
        .store
        .request_email_change(&user, &pending, &change_record, &revert_record, &caps)
        .await?
    {
        WriteOutcome::Done => {}
        WriteOutcome::Capped => {
            let until = caps.iter().map(|c| c.expires_at).max().unwrap_or(now);
            return Err(ApiError::TooManyRequests {
                msg: "too many emails, try again later.",
                retry_after: until - now,
            });
        }
        WriteOutcome::Stale => return Err(ApiError::Unauthorized(NOT_AUTHENTICATED)),
    }
    // A retry after a failed send simply replaces this pending change.
    app.mailer.send(&to_old).await?;
    app.mailer.send(&to_new).await?;
    Ok(Reply::msg("Check your email..."))
}
