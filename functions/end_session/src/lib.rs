//! `DELETE /api/sessions/{id}` (authenticated): ends one of the user's
//! sessions, named by the `id` that `GET /api/sessions` lists.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::domain::activity::ActivityKind;
use shared::http::account::{caller_account, live_sessions};
use shared::http::{path_param, respond};
use shared::{ApiError, App, Reply};

/// Handles `DELETE /api/sessions/{id}`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(end(&app, &req).await)
}

async fn end(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, data) = caller_account(app, req, now).await?;
    let not_found = || ApiError::Missing("session not found");
    let id = path_param(req, "id").ok_or_else(not_found)?;
    let session = live_sessions(&data, now)
        .into_iter()
        .find(|s| s.sid.handle() == id)
        .ok_or_else(not_found)?;
    if !app
        .store
        .delete_session(
            &caller.username,
            &session.sid,
            now,
            ActivityKind::SessionEnded,
        )
        .await?
    {
        return Err(not_found());
    }
    Ok(Reply::msg("session ended"))
}
