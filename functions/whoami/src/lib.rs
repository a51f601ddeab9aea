//! `GET /api/whoami` (authenticated): who the session belongs to, for a
//! team's other services. Revocation-aware: the session record is read (one
//! DynamoDB read), so a token stops working here the moment its session ends.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::account::rfc3339;
use shared::http::respond;
use shared::http::session::{NOT_AUTHENTICATED, authenticate};
use shared::{ApiError, App, Reply};

/// Handles `GET /api/whoami`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(whoami(&app, &req).await)
}

async fn whoami(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let caller = authenticate(app.jwt()?, &app.config, req, now).await?;
    let (user, expires_at) = app
        .store
        .session_user_until(&caller.username, &caller.sid, now)
        .await?
        .ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    Ok(Reply::msg("success").with_data(json!({
        // Never reused (a username can be registered again after a
        // deletion): what other services key their data by. `null` only
        // for an account stored before accounts had ids.
        "account_id": (!user.account_id.is_legacy()).then(|| user.account_id.as_str()),
        "username": user.username.as_str(),
        "is_email_verified": user.is_email_verified,
        "session": {
            "id": caller.sid.handle(),
            "expires_at": rfc3339(expires_at),
        },
    })))
}
