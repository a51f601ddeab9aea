//! `POST /api/change_password` (authenticated) `{pwd, new_pwd}`.
//!
//! Every other session ends, this one stays; reset
//! links still outstanding die; a notice goes to the account's address
//! first (no notice, no change). The current password is counted against
//! this session: the fifth wrong one in a row ends it.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use shared::domain::Password;
use shared::domain::hashing::hash_password;
use shared::domain::messages;
use shared::http::account::{caller_user_and_failures, confirm_identity};
use shared::http::factors::{code_for, spend};
use shared::http::limits::{TOO_MANY_EMAILS, limit_client_mail, notice_cap, send_notice, take_for};
use shared::http::session::{NOT_AUTHENTICATED, with_device_token};
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/change_password`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(change(&app, &req).await)
}

async fn change(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    let code = code_for(&user, &body)?;
    // The new password is judged before the current one is tried: a bad
    // choice costs no attempt.
    let new_pwd = Password::parse(body.str("new_pwd")?, &caller.username)
        .map_err(|e| ApiError::bad_request(format!("new_pwd {e}")))?;
    let device_key = app.device_key()?;
    limit_client_mail(app, req).await?;
    let used = confirm_identity(app, &caller, &user, failures, pwd, code.as_ref(), now).await?;

    let password_hash = hash_password(new_pwd.secret().clone()).await?;
    let notice = messages::password_changed_by_user(
        &app.config,
        user.email.as_str(),
        user.is_email_verified.then_some(user.username.as_str()),
    )?;
    // The notice is the owner's alarm: it counts against the account's own
    // budget (never the address's), and it goes out before the change is
    // written, so a password is never changed without it (503 when it
    // cannot be sent, 429 past the budget; nothing changed either way).
    if !take_for(
        app,
        &notice_cap(app, &user.username, now),
        &user,
        TOO_MANY_EMAILS,
        now,
    )
    .await?
    {
        // The account is gone (or its deletion began).
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    send_notice(app, &user, &notice, now).await?;
    spend(app, &user, used).await?;
    if !app
        .store
        .change_password(&user, &password_hash, &caller.sid)
        .await?
    {
        // A reset or another change got there first: this session is over.
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    // Every other device must sign in again; this one is trusted anew.
    Ok(with_device_token(
        Reply::msg("Your password has been changed."),
        &app.config,
        device_key,
        &user.account_id,
        user.device_epoch + 1,
        now,
    ))
}
