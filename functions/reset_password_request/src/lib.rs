//! `POST /api/reset_password_request` `{username}`: emails a one-hour reset link.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::messages;
use shared::domain::{OneTimeToken, Username};
use shared::http::limits::{IpAction, address_mail_cap, limit_ip, reset_email_cap};
use shared::http::{JsonBody, respond};
use shared::ports::{TokenPurpose, TokenRecord};
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
    // Built before the token is written: nothing is stored that no email carries.
    let link = app.config.reset_link(token.expose());
    let mail = messages::reset(
        &app.config,
        user.email.as_str(),
        user.username.as_str(),
        &link,
    )?;
    // Per username: past it, 429. Per address too (unconfirmed accounts may
    // share one, even one another account has confirmed: its owner then
    // gets at most the address's cap of mail, and links that can change the
    // password of such an account but never claim the address). The address
    // cap is silent: answered the same, nothing sent, so that filling an
    // address's cap does not tell which usernames name it.
    let cap = reset_email_cap(app, &username, now);
    if !app
        .store
        .put_token(&record, std::slice::from_ref(&cap))
        .await?
    {
        return Err(ApiError::TooManyRequests {
            msg: "too many reset emails for this user, try again later.",
            retry_after: cap.expires_at - now,
        });
    }
    if app
        .store
        .hit(&address_mail_cap(app, &user.email, now))
        .await?
    {
        app.mailer.send(&mail).await?;
    }
    Ok(Reply::msg("Check your email..."))
}
