//! `GET /api/logout` (authenticated): ends the session and clears both cookies.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::auth::{NOT_AUTHENTICATED, authenticate, logout_cookies};
use shared::http::respond;
use shared::{ApiError, App, Reply};

/// Handles `GET /api/logout`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(logout(&app, &req).await)
}

async fn logout(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let caller = authenticate(app.jwt()?, &app.config, req, now)?;
    let ended = app
        .store
        .delete_session(&caller.username_key, caller.sid.as_str(), now)
        .await?;
    if !ended {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED));
    }
    let [access, csrf] = logout_cookies();
    Ok(Reply::msg("user logout")
        .with_cookie(access)
        .with_cookie(csrf))
}
