//! `POST /api/reset_password_request` `{username}`: emails a one-hour reset link.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::messages;
use shared::domain::{OneTimeToken, Username};
use shared::http::limits::{
    IpAction, TOO_MANY_RESETS, address_mail_cap, limit_client_mail, limit_ip, reset_email_caps,
    send_within_address_cap,
};
use shared::http::{JsonBody, own_base_url, respond};
use shared::ports::{TokenPurpose, TokenRecord, WriteOutcome};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/reset_password_request`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(request_reset(&app, &req).await)
}

/// `{username}`; a name that cannot be registered cannot exist (`None`).
struct ResetRequest {
    username: Option<Username>,
}

impl TryFrom<JsonBody> for ResetRequest {
    type Error = ApiError;

    fn try_from(body: JsonBody) -> Result<Self, ApiError> {
        Ok(Self {
            username: Username::parse(body.str("username")?).ok(),
        })
    }
}

async fn request_reset(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let ResetRequest { username } = ResetRequest::try_from(JsonBody::parse(req)?)?;
    limit_ip(app, req, IpAction::ResetRequest).await?;
    limit_client_mail(app, req).await?;

    let not_found = || ApiError::bad_request("user not found");
    let username = username.ok_or_else(not_found)?;
    let user = app.store.get_user(&username).await?.ok_or_else(not_found)?;

    let now = app.clock.now();
    let token = OneTimeToken::generate()?;
    let record = TokenRecord {
        hash: token.hash(),
        purpose: TokenPurpose::Reset,
        username: username.clone(),
        account_id: user.account_id.clone(),
        email: user.email.clone(),
        expires_at: now + app.config.reset_token_ttl_secs,
        epoch: user.reset_epoch,
    };
    // Built before the token is written: nothing is stored that no email
    // carries. The username only to an address its account confirmed.
    let link = app
        .config
        .links(own_base_url(req).as_deref())
        .reset(token.expose())?;
    let mail = messages::reset(
        &app.config,
        user.email.as_str(),
        user.is_email_verified.then_some(user.username.as_str()),
        &link,
    )?;
    // Per username and requesting client, under a ceiling per username:
    // past either, 429, and one client's requests never use up what the
    // owner's own client may ask for.
    let caps = reset_email_caps(app, req, &username, now)?;
    match app.store.put_token(&record, &caps).await? {
        WriteOutcome::Done => {}
        WriteOutcome::Capped => {
            let retry_after = caps.iter().map(|c| c.expires_at - now).max().unwrap_or(1);
            return Err(ApiError::TooManyRequests {
                msg: TOO_MANY_RESETS,
                retry_after,
            });
        }
        // Deleted since it was read: as if it had been gone then.
        WriteOutcome::Stale => return Err(not_found()),
    }
    // The account's confirmed address is its own: the address's budget
    // (which strangers' registrations can fill) never silences its reset
    // link. An unconfirmed address is anyone's to name, so its mail counts
    // there, silently (answered the same, nothing sent): unconfirmed
    // accounts may share an address, even one another account has
    // confirmed, and filling its budget must not tell which usernames
    // name it.
    if user.is_email_verified {
        app.mailer.send(&mail).await?;
    } else {
        send_within_address_cap(app, &address_mail_cap(app, &user.email, now), &mail).await?;
    }
    Ok(Reply::msg("Check your email..."))
}
