//! `POST /api/passkey_login/start` (no session): request options for any
//! passkey of this relying party (no username: a discoverable credential,
//! user verification required) and the ceremony. It writes the ceremony,
//! so it counts in a per-IP window of its own (the login limit's size).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::http::limits::{IpAction, limit_ip};
use shared::http::passkeys::{relying_party, start_ceremony};
use shared::http::{JsonBody, respond};
use shared::ports::CeremonyKind;
use shared::{ApiError, App, Reply};

/// Handles `POST /api/passkey_login/start`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(start(&app, &req).await)
}

async fn start(app: &App, req: &Request) -> Result<Reply, ApiError> {
    // No body, or a JSON object (`{}`): nothing in it is read.
    if !req.body().is_empty() {
        JsonBody::parse(req)?;
    }
    let now = app.clock.now();
    let rp = relying_party(app, req)?;
    limit_ip(app, req, IpAction::PasskeyStart).await?;
    let options = rp.discoverable_options().map_err(ApiError::internal)?;
    let data = start_ceremony(app, CeremonyKind::SignIn, None, options, now).await?;
    Ok(Reply::msg("success").with_data(data))
}
