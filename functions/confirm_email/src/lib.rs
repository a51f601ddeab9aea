//! `GET /api/confirm_email/{token}`: consumes a confirmation token, verifies the email.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::TokenHash;
use shared::http::{path_param, respond};
use shared::ports::Confirmation;
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
    match app.store.confirm_email(&hash, app.clock.now()).await? {
        Confirmation::Confirmed => Ok(Reply::msg("Your email has been confirmed.")),
        Confirmation::NotFound => Err(not_found()),
        // Only the mailbox's owner has the link: telling them is no leak.
        Confirmation::AddressTaken => Err(ApiError::Conflict(
            "email is already confirmed for another account.",
        )),
    }
}
