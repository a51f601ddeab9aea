//! `GET /api/mfa` (authenticated): whether sign-in asks for a second
//! factor, and how many recovery codes are left.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::account::caller_user;
use shared::http::respond;
use shared::{ApiError, App, Reply};

/// Handles `GET /api/mfa`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(status(&app, &req).await)
}

async fn status(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (_, user) = caller_user(app, req, app.clock.now()).await?;
    let left = if user.totp_on() {
        user.recovery_codes.len()
    } else {
        0
    };
    Ok(Reply::msg("success").with_data(json!({
        "totp": user.totp_on(),
        "recovery_codes_left": left,
    })))
}
