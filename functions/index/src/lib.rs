//! `GET /`: names the service and its version.
//!
//! The same function serves API Gateway's `$default` route (every request no
//! other route matches), so unknown paths and wrong methods get the JSON
//! envelope (404, or 405 with `Allow`) in AWS as they do in the dev server.
//! API Gateway sends CORS preflights there too (an `OPTIONS` request matches
//! no other route): they get 204, to which API Gateway adds the configured
//! CORS headers.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use shared::http::{respond, unrouted_response};
use shared::{Reply, SERVICE_NAME, VERSION};

/// The route key API Gateway gives requests no other route matched.
const DEFAULT_ROUTE: &str = "$default";

/// Handles `GET /` and the `$default` route.
pub async fn handle(req: Request) -> Response<Body> {
    let unmatched = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.as_deref() == Some(DEFAULT_ROUTE),
        _ => false,
    };
    if unmatched {
        return unrouted_response(req.method().as_str(), req.uri().path());
    }
    respond(Ok(Reply::msg(SERVICE_NAME).with_data(json!({
        "name": SERVICE_NAME,
        "version": VERSION,
    }))))
}
