//! `GET /api/profile_settings` (authenticated): the profile, email masked.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::mask_email;
use shared::http::respond;
use shared::http::session::{NOT_AUTHENTICATED, authenticate};
use shared::{ApiError, App, Reply};

/// Handles `GET /api/profile_settings`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(profile(&app, &req).await)
}

async fn profile(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let caller = authenticate(app.jwt()?, &app.config, req, now)?;
    let user = app
        .store
        .session_user(&caller.username, &caller.sid, now)
        .await?
        .ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    Ok(Reply::msg("success").with_data(json!({
        "username": user.username.as_str(),
        "full_name": user.full_name,
        "email": mask_email(user.email.as_str()),
        "phone": user.phone,
        "contacts": user.contacts,
        "is_email_verified": user.is_email_verified,
        "pwd": "********",
    })))
}
