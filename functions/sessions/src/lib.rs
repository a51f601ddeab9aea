//! `GET /api/sessions` (authenticated): the user's live sessions, newest first.
//!
//! Each has an `id` that names it for `DELETE /api/sessions/{id}`: a hash of
//! the session id, not a credential.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::account::{caller_account, live_sessions, session_view};
use shared::http::respond;
use shared::{ApiError, App, Reply};

/// Handles `GET /api/sessions`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(sessions(&app, &req).await)
}

async fn sessions(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, data) = caller_account(app, req, now).await?;
    let sessions: Vec<_> = live_sessions(&data, now)
        .into_iter()
        .map(|s| session_view(s, &caller))
        .collect();
    Ok(Reply::msg("success").with_data(json!({ "sessions": sessions })))
}
