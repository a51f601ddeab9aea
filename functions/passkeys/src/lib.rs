//! `GET /api/passkeys` (authenticated): the account's passkeys, newest
//! first (no key material).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::account::caller_account;
use shared::http::passkeys::passkey_view;
use shared::http::respond;
use shared::{ApiError, App, Reply};

/// Handles `GET /api/passkeys`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(list(&app, &req).await)
}

async fn list(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (_, data) = caller_account(app, req, app.clock.now()).await?;
    let mut passkeys = data.passkeys;
    passkeys.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let list: Vec<_> = passkeys.iter().map(passkey_view).collect();
    Ok(Reply::msg("success").with_data(json!({ "passkeys": list })))
}
