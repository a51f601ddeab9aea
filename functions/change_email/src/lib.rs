//! `POST /api/change_email` (authenticated) `{pwd, new_email}`.
//!
//! Nothing changes until the link mailed to the NEW address is opened
//! (`GET /api/confirm_email/{token}`); until then login, reset and the
//! profile keep the old address. The OLD address gets a notice with a link
//! (`GET /api/revert_email/{token}`, 7 days) that keeps or restores it and
//! ends every session. A new address that another account has confirmed
//! gets the same answer; its owner gets a notice instead of a link.
//!
//! The notice to the old address is never capped away by what strangers
//! did to that address's mail budget (it counts against the account's own
//! budget instead), and it is sent before the change is written: a change
//! whose notice cannot be sent is not made.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use shared::domain::messages;
use shared::domain::{EmailAddress, OneTimeToken};
use shared::http::account::{caller_user_and_failures, confirm_identity};
use shared::http::factors::{code_for, spend};
use shared::http::limits::{
    TOO_MANY_EMAILS, address_mail_cap, limit_client_mail, send_notice, send_within_address_cap,
    take_for, user_mail_cap,
};
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, own_base_url, respond};
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
    let code = code_for(&user, &body)?;
    let new_email = EmailAddress::parse(body.str("new_email")?)
        .map_err(|e| ApiError::bad_request(format!("new_email {e}")))?;
    if new_email == user.email {
        return Err(ApiError::bad_request(
            "new_email is already the account's address.",
        ));
    }
    limit_client_mail(app, req).await?;
    let used = confirm_identity(app, &caller, &user, failures, pwd, code.as_ref(), now).await?;

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
    let own_base = own_base_url(req);
    let links = app.config.links(own_base.as_deref());
    let taken = app
        .store
        .address_holder_hint(&new_email)
        .await?
        .is_some_and(|holder| holder != user.username);
    let to_new = if taken {
        messages::address_in_use(&app.config, new_email.as_str())?
    } else {
        messages::confirm_new_address(
            &app.config,
            new_email.as_str(),
            &links.confirm(change.expose())?,
        )?
    };
    let revert_link = links.revert(revert.expose())?;
    let to_old = messages::address_change_requested(
        &app.config,
        user.email.as_str(),
        user.is_email_verified.then_some(user.username.as_str()),
        revert_record.as_ref().map(|_| revert_link.as_str()),
    )?;
    // The account's own budget (not the address's, which strangers can
    // fill): past it, nothing is sent and nothing changes.
    if !take_for(
        app,
        &user_mail_cap(app, &user.username, now),
        &user,
        TOO_MANY_EMAILS,
        now,
    )
    .await?
    {
        // The account is gone (or its deletion began).
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    // The notice to the account's address, with its revert link, goes out
    // before anything is written: if it cannot be sent, the change is not
    // made (503). Only a race lost below leaves a notice of a change that
    // did not happen (its revert link then finds nothing to undo).
    send_notice(app, &user, &to_old, now).await?;
    spend(app, &user, used).await?;
    match app
        .store
        .request_email_change(&user, &pending, &change_record, revert_record.as_ref(), &[])
        .await?
    {
        WriteOutcome::Done => {}
        WriteOutcome::Capped | WriteOutcome::Stale => {
            return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
        }
    }
    // The new address is not confirmed: its budget is the address's, and
    // silent (see reset_password_request). A retry after a failed send
    // simply replaces this pending change.
    send_within_address_cap(app, &address_mail_cap(app, &new_email, now), &to_new).await?;
    Ok(Reply::msg("Check your email..."))
}
