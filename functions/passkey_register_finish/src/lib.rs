//! `POST /api/passkeys/register/finish` (authenticated) `{ceremony,
//! credential, name?}`: verifies the new passkey against this account's
//! registration ceremony (origin, RP ID, user presence and verification,
//! the challenge) and stores it; its credential id is claimed for this
//! account alone. A notice goes to the account's address first.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::messages::FactorChange;
use shared::http::account::caller_user;
use shared::http::factors::announce;
use shared::http::limits::limit_client_mail;
use shared::http::passkeys::{
    REGISTRATION_REFUSED, START_AGAIN, passkey_view, read_ceremony, relying_party, take_ceremony,
};
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::ports::{AddPasskey, CeremonyKind, PasskeyRecord};
use shared::{ApiError, App, Reply};

const ALREADY: &str = "this passkey is already registered.";
/// Credential ids longer than this (base64url; 255 bytes) are refused: they
/// are part of item keys, which DynamoDB caps.
const MAX_ID_CHARS: usize = 340;

/// Handles `POST /api/passkeys/register/finish`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(finish(&app, &req).await)
}

async fn finish(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (_, user) = caller_user(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let ceremony = body.str("ceremony")?.to_owned();
    let credential = body.object("credential")?;
    let name = match body.opt_str("name")?.map(str::trim) {
        None | Some("") => "Passkey".to_owned(),
        Some(n) if n.chars().count() > 64 => {
            return Err(ApiError::bad_request("name must be at most 64 characters."));
        }
        Some(n) => n.to_owned(),
    };
    let key = app.factor_key()?;
    let rp = relying_party(app, req)?;
    limit_client_mail(app, req).await?;
    let account = (&user.username, &user.account_id);
    // Read, not taken: it is consumed with the passkey's write, so that a
    // 503 or 429 on the way leaves it for the retry.
    let ceremony = read_ceremony(app, &ceremony, CeremonyKind::Register, Some(account), now)
        .await?
        .ok_or_else(|| ApiError::bad_request(START_AGAIN))?;
    let verified = rp
        .verify_registration(&ceremony.state, credential)
        .ok()
        .filter(|(stored, handle)| {
            *handle == key.user_handle(&user.account_id, &user.username)
                && stored.id.len() <= MAX_ID_CHARS
        });
    let Some((stored, _)) = verified else {
        // A refused answer spends its ceremony.
        take_ceremony(
            app,
            &ceremony.id,
            CeremonyKind::Register,
            Some(account),
            now,
        )
        .await?;
        tracing::info!("passkey registration refused");
        return Err(ApiError::bad_request(REGISTRATION_REFUSED));
    };
    if app.store.passkey_by_id(&stored.id).await?.is_some() {
        return Err(ApiError::Conflict(ALREADY));
    }
    let passkey = PasskeyRecord {
        username: user.username.clone(),
        account_id: user.account_id.clone(),
        credential: stored,
        name,
        created_at: now,
        last_used_at: None,
        since: user.email_changes,
    };
    announce(app, &user, FactorChange::PasskeyAdded, now).await?;
    match app.store.add_passkey(&user, &passkey, &ceremony.id).await? {
        AddPasskey::Added => {}
        AddPasskey::Taken => return Err(ApiError::Conflict(ALREADY)),
        AddPasskey::Stale => return Err(ApiError::Unauthorized(NOT_AUTHENTICATED)),
        AddPasskey::CeremonyGone => return Err(ApiError::bad_request(START_AGAIN)),
    }
    Ok(Reply::msg("Your passkey has been added.")
        .with_data(json!({ "passkey": passkey_view(&passkey) })))
}
