//! `POST /api/passkeys/register/start` (authenticated) `{pwd, code?}`:
//! creation options for a new passkey of the account (resident key and
//! user verification required, the account's passkeys excluded, an opaque
//! user handle) and the ceremony (5 minutes, this account, once).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use secrecy::SecretString;
use shared::http::account::{caller_user_and_failures, confirm_identity};
use shared::http::factors::{code_for, spend};
use shared::http::passkeys::{relying_party, start_ceremony};
use shared::http::{JsonBody, respond};
use shared::ports::CeremonyKind;
use shared::{ApiError, App, Reply};

/// Handles `POST /api/passkeys/register/start`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(start(&app, &req).await)
}

async fn start(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, user, failures) = caller_user_and_failures(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let pwd = SecretString::from(body.str("pwd")?);
    let code = code_for(&user, &body)?;
    let key = app.factor_key()?;
    let rp = relying_party(app, req)?;
    let used = confirm_identity(app, &caller, &user, failures, pwd, code.as_ref(), now).await?;
    spend(app, &user, used).await?;
    let existing: Vec<_> = app
        .store
        .passkeys_of(&user.username)
        .await?
        .into_iter()
        .map(|p| p.credential)
        .collect();
    let options = rp
        .registration_options(
            key.user_handle(&user.account_id, &user.username),
            user.username.as_str(),
            &user.full_name,
            &existing,
        )
        .map_err(ApiError::internal)?;
    let account = Some((user.username.clone(), user.account_id.clone()));
    let data = start_ceremony(app, CeremonyKind::Register, account, options, now).await?;
    Ok(Reply::msg("success").with_data(data))
}
