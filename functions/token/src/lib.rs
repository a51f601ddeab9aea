//! `POST /api/token` (authenticated) `{audience}`: a service token for one
//! service of `TOKEN_AUDIENCES`: RS256, short-lived (`TOKEN_TTL_SECS`),
//! verifiable with our JWKS by API Gateway's JWT authorizer or any JWT
//! library, carrying how the session was signed in (`amr`).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::account::caller_account;
use shared::http::service_tokens::{claims, issuer};
use shared::http::session::NOT_AUTHENTICATED;
use shared::http::{JsonBody, respond};
use shared::{ApiError, App, Reply};

/// Handles `POST /api/token`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(mint(&app, &req).await)
}

async fn mint(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, data) = caller_account(app, req, now).await?;
    let body = JsonBody::parse(req)?;
    let audience = body.str("audience")?;
    let settings = &app.config.service_tokens;
    if !settings.audiences.iter().any(|a| a == audience) {
        return Err(ApiError::bad_request("audience is not allowed."));
    }
    let session = data
        .live_session(&caller.sid, now)
        .ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    let iss = issuer(app.config.public_base_url.as_deref(), req)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no issuer: set PUBLIC_BASE_URL")))?;
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti)?;
    let claims = claims(
        &iss,
        &data.user,
        session,
        audience,
        &URL_SAFE_NO_PAD.encode(jti),
        now,
        settings.ttl_secs,
    );
    let keys = app.service_keys()?.current(now).await;
    let token = keys
        .signing(now)
        .sign(&claims)
        .map_err(ApiError::internal)?;
    Ok(Reply::msg("success").with_data(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.ttl_secs,
    })))
}
