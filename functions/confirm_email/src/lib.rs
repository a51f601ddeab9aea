//! `GET /api/confirm_email/{token}`: consumes a confirmation token, verifies the email.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::TokenHash;
use shared::http::{path_param, respond};
use shared::{ApiError, App, Reply};

/// Handles `GET /api/confirm_email/{token}`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(confirm(&app, &req).await)
}

async fn confirm(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let not_found = || ApiError::bad_request("user not found.");
    let hash = path_param(req, "token")
        .as_deref()
        .and_then(TokenHash::from_link)
        .ok_or_else(not_found)?;
    if app.store.confirm_email(&hash, app.clock.now()).await? {
        Ok(Reply::msg("Your email has been confirmed."))
    } else {
        Err(not_found())
    }
}
