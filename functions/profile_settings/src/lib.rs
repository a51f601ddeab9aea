//! `GET /api/profile_settings` (authenticated): the profile, email masked.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::http::account::{caller_user, profile_view};
use shared::http::respond;
use shared::{ApiError, App, Reply};

/// Handles `GET /api/profile_settings`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(profile(&app, &req).await)
}

async fn profile(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (_, user) = caller_user(app, req, app.clock.now()).await?;
    Ok(Reply::msg("success").with_data(profile_view(&user)))
}
