//! `GET /api/revert_email/{token}`: the link mailed to the old address when
//! a change of address was asked for. Keeps (or restores) that address,
//! verified, drops the pending change and ends every session.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::TokenHash;
use shared::http::{path_param, respond};
use shared::ports::Confirmation;
use shared::{ApiError, App, Reply};

/// Handles `GET /api/revert_email/{token}`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(revert(&app, &req).await)
}

async fn revert(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let not_found = || ApiError::bad_request("user not found.");
    let hash = path_param(req, "token")
        .as_deref()
        .and_then(TokenHash::from_link)
        .ok_or_else(not_found)?;
    match app.store.revert_email(&hash, app.clock.now()).await? {
        Confirmation::Confirmed => Ok(Reply::msg("Your email has been restored.")),
        Confirmation::NotFound => Err(not_found()),
        // Only the old mailbox has this link: telling its owner is no leak.
        Confirmation::AddressTaken => Err(ApiError::Conflict(
            "email is already confirmed for another account.",
        )),
    }
}
