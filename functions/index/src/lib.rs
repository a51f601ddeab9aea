//! `GET /`: names the service and its version.
//!
//! The same function serves API Gateway's `$default` route (every request no
//! other route matches), so unknown paths and wrong methods get the JSON
//! envelope (404, or 405 with `Allow`) in AWS as they do in the dev server.

use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use shared::http::{error_response, respond};
use shared::routes::{RouteMatch, match_route};
use shared::{ApiError, App, Reply, SERVICE_NAME, VERSION};

/// The route key API Gateway gives requests no other route matched.
const DEFAULT_ROUTE: &str = "$default";

/// Handles `GET /` and the `$default` route.
pub async fn handle(_app: Arc<App>, req: Request) -> Response<Body> {
    let unmatched = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.as_deref() == Some(DEFAULT_ROUTE),
        _ => false,
    };
    if unmatched {
        let err = match match_route(req.method().as_str(), req.uri().path()) {
            RouteMatch::MethodNotAllowed(allow) => ApiError::MethodNotAllowed { allow },
            RouteMatch::NotFound | RouteMatch::Found(..) => ApiError::NotFound,
        };
        return error_response(&err);
    }
    respond(Ok(Reply::msg(SERVICE_NAME).with_data(json!({
        "name": SERVICE_NAME,
        "version": VERSION,
    }))))
}
