//! `GET /api/security_events?limit=&cursor=` (authenticated): the
//! account's security activity, newest first, a page at a time (`limit`
//! 20 by default, at most 100; `cursor` from the previous page, `null`
//! after the last).

use std::sync::Arc;

use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::{Body, Request, Response};
use shared::http::account::caller_user;
use shared::http::activity::{activity_page, page_request};
use shared::http::respond;
use shared::{ApiError, App, Reply};

/// Handles `GET /api/security_events`.
pub async fn handle(app: Arc<App>, req: Request) -> Response<Body> {
    respond(security_events(&app, &req).await)
}

async fn security_events(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let now = app.clock.now();
    let (caller, _) = caller_user(app, req, now).await?;
    // The query as the URI carries it (API Gateway's raw query string).
    let query: QueryMap = req
        .uri()
        .query()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();
    let (limit, before) = page_request(query.first("limit"), query.first("cursor"))?;
    let page = activity_page(app, &caller.username, now, limit, before.as_deref()).await?;
    Ok(Reply::msg("success").with_data(page))
}
