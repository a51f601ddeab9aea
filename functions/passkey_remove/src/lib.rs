//! `POST /api/passkeys/remove` (authenticated) `{id, pwd, code?}`: removes
//! one of the account's passkeys (and its claim on the credential id). A
//! notice goes to the account's address first.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use shared::domain::messages::FactorChange;
use shared::http::account::{caller_user_and_failures, confirm_identity};
use shared::http::factors::{announce, code_for, spend};
use shared::http::limits::limit_client_mail;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

const NOT_FOUND: &str = "passkey not found";

/// Handles `POST /api/passkeys/remove`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(remove(&app, &req).await)
}

async fn remove(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let id = body.str("id")?.to_owned();
    let pwd = SecretString::from(body.str("pwd")?);
    let code = code_for(&user, &body)?;
    limit_client_mail(app, req).await?;
    let used = confirm_identity(app, &caller, &user, failures, pwd, code.as_ref(), now).await?;
    let owned = app
        .store
        .passkeys_of(&user.username)
        .await?
        .iter()
        .any(|p| p.credential.id == id && p.account_id == user.account_id);
    if !owned {
        return Err(ApiError::Missing(NOT_FOUND));
    }
    announce(app, &user, FactorChange::PasskeyRemoved, now).await?;
    spend(app, &user, used).await?;
    if !app.store.remove_passkey(&user, &id).await? {
        return Err(ApiError::Missing(NOT_FOUND));
    }
    Ok(Reply::msg("Your passkey has been removed."))
}
