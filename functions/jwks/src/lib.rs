//! `GET /.well-known/jwks.json`: the public keys of the service tokens (the
//! current one and the one before the last rotation), cacheable for five
//! minutes. No table, no DynamoDB client.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use shared::App;
use shared::http::error_response;
use shared::http::service_tokens::jwks;
use shared::ports::{Clock, ServiceKeyRing};

/// Handles `GET /.well-known/jwks.json` with the keys `ring` holds.
pub async fn handle(ring: Arc<ServiceKeyRing>, _req: Request) -> Response<Body> {
    let now = shared::adapters::SystemClock.now();
    jwks(&*ring.current(now).await)
}

/// The same, for the dev server (the app's keys).
pub async fn handle_app(app: Arc<App>, _req: Request) -> Response<Body> {
    match app.service_keys() {
        Ok(ring) => jwks(&*ring.current(app.clock.now()).await),
        Err(err) => error_response(&err),
    }
}
