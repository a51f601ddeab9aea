//! `POST /api/logout_all` (authenticated): ends every session of the user,
//! this one too, and clears both cookies.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::http::account::caller_user;
use shared::http::respond;
use shared::http::session::logout_cookies;
use shared::{ApiError, App, Reply};

/// Handles `POST /api/logout_all`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(logout_all(&app, &req).await)
}

async fn logout_all(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (_, user) = caller_user(app, req, app.clock.now()).await?;
    // Every session ends at once, also one a racing login is writing: the
    // account's session epoch moves on (links and devices are untouched).
    app.store.end_all_sessions(&user).await?;
    let [access, csrf] = logout_cookies(&app.config);
    Ok(Reply::msg("user logout")
        .with_cookie(access)
        .with_cookie(csrf))
}
