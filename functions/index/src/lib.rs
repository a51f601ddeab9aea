//! `GET /`: names the service and its version.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::respond;
use shared::{App, Reply, SERVICE_NAME, VERSION};

/// Handles `GET /`.
pub async fn handle(_app: Arc<App>, _req: Request) -> Response<Body> {
    respond(Ok(Reply::msg(SERVICE_NAME).with_data(json!({
        "name": SERVICE_NAME,
        "version": VERSION,
    }))))
}
