//! `GET /.well-known/openid-configuration`: the discovery document API
//! Gateway's JWT authorizer reads (`issuer`, `jwks_uri`, the algorithm, the
//! subject type), cacheable for five minutes. No table, no secret, no SDK.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::http::service_tokens::{discovery, issuer};
use shared::{ApiError, App};

/// Handles `GET /.well-known/openid-configuration` for a deployment whose
/// public base URL is `public_base_url` (else the request's own).
pub async fn handle(public_base_url: Option<String>, req: Request) -> Response<Body> {
    match issuer(public_base_url.as_deref(), &req) {
        Some(iss) => discovery(&iss),
        None => shared::http::error_response(&ApiError::internal(anyhow_free())),
    }
}

/// The same, for the dev server.
pub async fn handle_app(app: Arc<App>, req: Request) -> Response<Body> {
    handle(app.config.public_base_url.clone(), req).await
}

fn anyhow_free() -> std::io::Error {
    std::io::Error::other("no issuer: set PUBLIC_BASE_URL")
}
