//! `POST /api/delete_account` (authenticated) `{pwd}`: deletes the account
//! and everything stored about it, clears the cookies, sends a notice.
//!
//! The username and the address can be registered again afterwards; no
//! session or link of the deleted account works again, also not for a later
//! account with the same username (they carry the account's id).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use shared::domain::messages;
use shared::http::account::{caller_account, confirm_identity, session_failures};
use shared::http::factors::{code_for, spend};
use shared::http::limits::{TOO_MANY_EMAILS, limit_client_mail, notice_cap, send_notice, take_for};
use shared::http::session::logout_cookies;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/delete_account`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(delete(&app, &req).await)
}

async fn delete(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, data) = caller_account(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    let code = code_for(&data.user, &body)?;
    limit_client_mail(app, req).await?;
    let failures = session_failures(&data, &caller, now);
    let used =
        confirm_identity(app, &caller, &data.user, failures, pwd, code.as_ref(), now).await?;

    let notice = messages::account_deleted(
        &app.config,
        data.user.email.as_str(),
        data.user
            .is_email_verified
            .then_some(data.user.username.as_str()),
    )?;
    // The owner hears of it before anything is deleted (no notice, no
    // deletion: 503), from the account's own budget, never the address's.
    // `false`: a deletion of this account began before (a retry after it
    // failed half-way): its notice went out then; finish the job.
    let counted = take_for(
        app,
        &notice_cap(app, &data.user.username, now),
        &data.user,
        TOO_MANY_EMAILS,
        now,
    )
    .await?;
    if counted {
        send_notice(app, &data.user, &notice, now).await?;
    } else {
        app.mailer.not_sent(
            &notice,
            "the notice went out with the deletion's first attempt",
        );
    }
    spend(app, &data.user, used).await?;
    app.store.delete_account(&data, &caller.sid).await?;
    let [access, csrf] = logout_cookies(&app.config);
    Ok(Reply::msg("Your account has been deleted.")
        .with_cookie(access)
        .with_cookie(csrf))
}
